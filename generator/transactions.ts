/**
 * Synthetic payment events with fraud labels, after the original Brazilian fraud data generator (seeds/001),
 * built to be generated in parallel.
 *
 * Customers have profiles derived from (seed, customer) alone: home country (mostly BR) and its UTC
 * offset, a lognormal typical amount, an activity weight (lognormal: a few customers make many payments),
 * 1 to 3 devices and two preferred merchant categories. Events arrive as a homogeneous Poisson stream
 * (`txPerDay`); each picks a customer by activity weight. Legitimate events follow the profile (own
 * device, home country with occasional travel, preferred categories, typical amounts). An event is fraud
 * with a probability that is higher in the customer's local night (00:00-05:59) and normalized so that the
 * overall rate is `fraudRate` over whole days; fraud deviates from the profile: an unusual amount (4-20x),
 * a new device, a foreign country (each with some probability, at least one) and risky categories.
 *
 * Determinism: rows are cut into chunks of `TX_CHUNK_ROWS`; chunk k covers the time window
 * [t0 + k W, t0 + (k+1) W) (W = TX_CHUNK_ROWS / rate) with its own random stream keyed by (seed, chunk),
 * and no state carries between chunks, so any worker can generate any chunk.
 */

import { Rng } from "../runtime/rng.ts";

/** Rows per random-stream chunk; transaction part files start at multiples of this. */
export const TX_CHUNK_ROWS = 65_536;

/** Default first event window start: 2024-01-01T00:00Z. */
export const TX_EPOCH_MS: number = Date.UTC(2024, 0, 1);

/** Countries with their UTC offsets (hours) and the share of customers living there. */
export const COUNTRIES: readonly { code: string; utcOffset: number; share: number }[] = [
  { code: "BR", utcOffset: -3, share: 0.8 },
  { code: "AR", utcOffset: -3, share: 0.05 },
  { code: "US", utcOffset: -5, share: 0.04 },
  { code: "PT", utcOffset: 0, share: 0.03 },
  { code: "MX", utcOffset: -6, share: 0.03 },
  { code: "CL", utcOffset: -4, share: 0.03 },
  { code: "CO", utcOffset: -5, share: 0.02 },
];

/** Merchant categories; the last four are favoured by fraud. */
export const MERCHANT_CATEGORIES: readonly string[] = [
  "grocery",
  "restaurant",
  "fuel",
  "pharmacy",
  "transport",
  "clothing",
  "utilities",
  "entertainment",
  "travel",
  "electronics",
  "jewelry",
  "gift_cards",
  "online_services",
];
const RISKY_FROM = MERCHANT_CATEGORIES.length - 4;

/** Generation options of the transaction stream (shared by every chunk). */
export interface TxParams {
  /** Seed of the data set. */
  seed: number;
  /** Total rows of the data set. */
  rows: number;
  /** Target fraction of fraud events (0 <= fraudRate <= 0.5). */
  fraudRate: number;
  /** Number of customers (default: max(100, rows / 200)). */
  customers: number;
  /** Mean events per day (default 200,000). */
  txPerDay: number;
  /** Start of the first window, epoch ms. */
  t0: number;
}

/** Fills defaults and validates transaction options. */
export function txParams(o: {
  seed: number;
  rows: number;
  fraudRate?: number;
  customers?: number;
  txPerDay?: number;
  t0?: number;
}): TxParams {
  const fraudRate = o.fraudRate ?? 0.01;
  if (!(fraudRate >= 0 && fraudRate <= 0.5)) {
    throw new RangeError(`fraudRate must be within [0, 0.5], got ${fraudRate}`);
  }
  const customers = o.customers ?? Math.max(100, Math.round(o.rows / 200));
  if (!Number.isInteger(customers) || customers < 1 || customers > 100_000_000) {
    throw new RangeError(`customers must be an integer in [1, 1e8], got ${customers}`);
  }
  const txPerDay = o.txPerDay ?? 200_000;
  if (!(txPerDay > 0)) throw new RangeError(`txPerDay must be > 0, got ${txPerDay}`);
  if (4 * customers + o.rows > 2 ** 31 - 1) {
    throw new RangeError(
      `too many rows/customers for INT32 device ids (${o.rows} rows, ${customers} customers)`,
    );
  }
  return { seed: o.seed, rows: o.rows, fraudRate, customers, txPerDay, t0: o.t0 ?? TX_EPOCH_MS };
}

/** Customer profiles, struct-of-arrays, indexed by customer id. */
export interface CustomerProfiles {
  /** Home country index into `COUNTRIES`. */
  country: Uint8Array;
  /** Log of the typical amount (mean of the lognormal). */
  amountMu: Float64Array;
  /** Spread of the log amount. */
  amountSigma: Float64Array;
  /** Number of devices (1..3): ids 4 * customer + 0..n-1. */
  devices: Uint8Array;
  /** First preferred merchant category. */
  cat1: Uint8Array;
  /** Second preferred merchant category. */
  cat2: Uint8Array;
  /** Alias table over activity weights: acceptance probabilities. */
  aliasProb: Float64Array;
  /** Alias table: alternative customer per slot. */
  aliasIdx: Int32Array;
}

const cache = new Map<string, CustomerProfiles>();

/** The customer profiles of a data set (cached per seed and customer count). */
export function customerProfiles(seed: number, customers: number): CustomerProfiles {
  const key = `${seed}:${customers}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const country = new Uint8Array(customers);
  const amountMu = new Float64Array(customers);
  const amountSigma = new Float64Array(customers);
  const devices = new Uint8Array(customers);
  const cat1 = new Uint8Array(customers);
  const cat2 = new Uint8Array(customers);
  const weight = new Float64Array(customers);
  const nCat = RISKY_FROM + 1; // everyday categories plus electronics
  for (let c = 0; c < customers; c++) {
    // One small stream per customer: profile c never depends on how many customers exist.
    const r = new Rng(seed, 0xc0ffee, c);
    let u = r.uniform(), k = 0;
    while (k < COUNTRIES.length - 1 && u >= COUNTRIES[k].share) u -= COUNTRIES[k++].share;
    country[c] = k;
    amountMu[c] = Math.log(60) + 0.8 * r.normal();
    amountSigma[c] = 0.3 + 0.5 * r.uniform();
    devices[c] = 1 + r.int(3);
    cat1[c] = r.int(nCat);
    cat2[c] = (cat1[c] + 1 + r.int(nCat - 1)) % nCat;
    weight[c] = Math.exp(0.9 * r.normal());
  }
  const { prob, alias } = aliasTable(weight);
  const out = { country, amountMu, amountSigma, devices, cat1, cat2, aliasProb: prob, aliasIdx: alias };
  if (cache.size > 4) cache.clear();
  cache.set(key, out);
  return out;
}

/** Walker's alias table for sampling index i with probability w[i] / sum(w). */
function aliasTable(w: Float64Array): { prob: Float64Array; alias: Int32Array } {
  const n = w.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += w[i];
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = Float64Array.from(w, (v) => (v * n) / sum);
  const small: number[] = [], large: number[] = [];
  for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i);
  while (small.length && large.length) {
    const s = small.pop()!, l = large.pop()!;
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1;
  return { prob, alias };
}

/** Generated transaction columns. */
export interface TxColumns {
  /** Global row index (0-based). */
  transaction_id: Float64Array;
  /** Event time, epoch ms (non-decreasing). */
  timestamp: Float64Array;
  /** Customer id. */
  customer_id: Int32Array;
  /** Device id (a customer's own devices are 4c..4c+2; new devices are above 4 * customers). */
  device_id: Int32Array;
  /** Amount in currency units, rounded to cents. */
  amount: Float64Array;
  /** Merchant category (see `MERCHANT_CATEGORIES`). */
  merchant_category: string[];
  /** Country where the payment happened (ISO 3166 alpha-2). */
  country: string[];
  /** Fraud label: 1 fraud, 0 legitimate. */
  is_fraud: Int32Array;
}

// Fraud weight by local hour: 3 at night (00-05), 1 by day; normalized over a day.
const NIGHT_WEIGHT = 3;
const MEAN_WEIGHT = (6 * NIGHT_WEIGHT + 18) / 24;

/** Transactions [rowStart, rowEnd) of the data set (rowStart a multiple of `TX_CHUNK_ROWS`). */
export function generateTransactions(p: TxParams, rowStart: number, rowEnd: number): TxColumns {
  if (rowStart % TX_CHUNK_ROWS !== 0) {
    throw new RangeError(`transaction ranges must start at a multiple of ${TX_CHUNK_ROWS}, got ${rowStart}`);
  }
  const n = rowEnd - rowStart;
  const out: TxColumns = {
    transaction_id: new Float64Array(n),
    timestamp: new Float64Array(n),
    customer_id: new Int32Array(n),
    device_id: new Int32Array(n),
    amount: new Float64Array(n),
    merchant_category: new Array<string>(n),
    country: new Array<string>(n),
    is_fraud: new Int32Array(n),
  };
  const prof = customerProfiles(p.seed, p.customers);
  const nC = p.customers;
  const windowMs = (TX_CHUNK_ROWS / p.txPerDay) * 86_400_000;
  const pDay = Math.min(1, p.fraudRate / MEAN_WEIGHT);
  const pNight = Math.min(1, (p.fraudRate * NIGHT_WEIGHT) / MEAN_WEIGHT);
  const nCountry = COUNTRIES.length;
  const nCat = MERCHANT_CATEGORIES.length;
  const gaps = new Float64Array(TX_CHUNK_ROWS + 1);
  for (let c0 = rowStart; c0 < rowEnd; c0 += TX_CHUNK_ROWS) {
    const chunk = c0 / TX_CHUNK_ROWS;
    const r = new Rng(p.seed, 0x7a, chunk);
    // Sorted uniform times in the window: normalized partial sums of exponential gaps.
    let total = 0;
    for (let i = 0; i <= TX_CHUNK_ROWS; i++) total += gaps[i] = r.exponential();
    const scale = windowMs / total;
    const w0 = p.t0 + chunk * windowMs;
    let acc = 0;
    const c1 = Math.min(rowEnd, c0 + TX_CHUNK_ROWS);
    for (let row = c0; row < c1; row++) {
      const i = row - rowStart;
      acc += gaps[row - c0];
      const ts = Math.floor(w0 + acc * scale);
      const slot = r.int(nC);
      const cust = r.uniform() < prof.aliasProb[slot] ? slot : prof.aliasIdx[slot];
      const home = prof.country[cust];
      const localHour = (((Math.floor(ts / 3_600_000) + COUNTRIES[home].utcOffset) % 24) + 24) % 24;
      const fraud = r.uniform() < (localHour < 6 ? pNight : pDay);
      let z = r.normal();
      let device = 4 * cust + r.int(prof.devices[cust]);
      let country = home;
      let cat = r.uniform() < 0.7 ? (r.uniform() < 0.6 ? prof.cat1[cust] : prof.cat2[cust]) : r.int(nCat - 2);
      if (!fraud) {
        if (r.uniform() < 0.03) country = (home + 1 + r.int(nCountry - 1)) % nCountry; // travel
      } else {
        let unusual = r.uniform() < 0.6;
        const newDevice = r.uniform() < 0.7;
        const foreign = r.uniform() < 0.5;
        if (!unusual && !newDevice && !foreign) unusual = true;
        if (unusual) z += Math.log(4 + 16 * r.uniform()) / prof.amountSigma[cust];
        if (newDevice) device = 4 * nC + row;
        if (foreign) country = (home + 1 + r.int(nCountry - 1)) % nCountry;
        if (r.uniform() < 0.6) cat = RISKY_FROM + r.int(4);
      }
      out.transaction_id[i] = row;
      out.timestamp[i] = ts;
      out.customer_id[i] = cust;
      out.device_id[i] = device;
      out.amount[i] =
        Math.max(1, Math.round(Math.exp(prof.amountMu[cust] + prof.amountSigma[cust] * z) * 100)) / 100;
      out.merchant_category[i] = MERCHANT_CATEGORIES[cat];
      out.country[i] = COUNTRIES[country].code;
      out.is_fraud[i] = fraud ? 1 : 0;
    }
  }
  return out;
}
