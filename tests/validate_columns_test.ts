/**
 * Column roles (data.columns): a Yahoo-Finance style file (`Date,Open,High,Low,Close,Adj Close,Volume`) is
 * validated with its OHLC checks and reaches the engines as open/high/low/close/volume, through the CLI's
 * config key and loadTask; the page uses the same resolveColumns / checksFor (tests/web_issue13_test.ts).
 */
import { strict as assert } from "node:assert";
import { load, loadConfig, LocalStorage } from "../mod.ts";
import { checksFor, csvLine, loadTask, resolveColumns } from "../io/validate.ts";

const YAHOO = "Date,Open,High,Low,Close,Adj Close,Volume\n" +
  "2024-01-02,10,11,9,10.5,10.4,100\n" +
  "2024-01-03,10.5,12,10,11.5,11.3,120\n" +
  "2024-01-04,11.5,12.5,11,12,11.8,90\n";

async function task(text: string, columns: Record<string, string | null> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "fg-cols-" });
  await Deno.writeTextFile(`${dir}/spy.csv`, text);
  try {
    return await loadTask(
      new LocalStorage(dir),
      { instrument: "spy", files: [{ key: "spy.csv", size: 0 }] },
      {
        denyColumns: [],
        timestampColumn: "timestamp",
        columns,
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("resolveColumns: own names in any case, Adj Close only when there is no Close, explicit wins", () => {
  const yahoo = ["Open", "High", "Low", "Close", "Adj Close", "Volume"];
  assert.deepEqual(resolveColumns(yahoo), {
    open: "Open",
    high: "High",
    low: "Low",
    close: "Close",
    volume: "Volume",
  });
  assert.equal(resolveColumns(["Adj Close", "Volume"]).close, "Adj Close");
  assert.equal(resolveColumns(yahoo, { close: "Adj Close" }).close, "Adj Close");
  // Lowercase names stay as they are; an ambiguous case-insensitive match maps nothing.
  assert.equal(resolveColumns(["close", "Close"]).close, "close");
  assert.equal(resolveColumns(["CLOSE", "Close"]).close, undefined);
  assert.deepEqual(checksFor(["close"]), {
    ran: ["increasing timestamps"],
    notRun: [
      "low ≤ high (no low or high column)",
      "open within [low, high] (no open or low or high column)",
      "close within [low, high] (no low or high column)",
      "volume ≥ 0 (no volume column)",
    ],
  });
  const all = ["open", "high", "low", "close", "volume"];
  assert.deepEqual(checksFor(all), {
    ran: [
      "increasing timestamps",
      "low ≤ high",
      "open within [low, high]",
      "close within [low, high]",
      "volume ≥ 0",
    ],
    notRun: [],
  });
  assert.deepEqual(checksFor(all, "Adj Close").notRun, [
    "close within [low, high] (close is Adj Close, adjusted; low and high are not)",
  ]);
});

Deno.test("loadTask: capitalised columns are checked and renamed; data.columns picks Adj Close", async () => {
  const f = await task(YAHOO);
  assert.deepEqual([...f.columns.keys()], ["open", "high", "low", "close", "Adj Close", "volume"]);
  assert.equal(f.timestampColumn, "Date");
  assert.deepEqual(Array.from(f.columns.get("close")!), [10.5, 11.5, 12]);
  // Adj Close under the unadjusted Low (older rows of a dividend payer): not compared with low/high.
  const adj = await task(YAHOO.replace(",10.4,", ",8.9,"), { close: "Adj Close" });
  assert.deepEqual(Array.from(adj.columns.get("close")!), [8.9, 11.3, 11.8]);
  assert.ok(adj.columns.has("Close"), "the unmapped Close stays a column under its own name");
  // The OHLC check runs on capitalised columns: High < Low is rejected, naming the file and row.
  await assert.rejects(
    () => task(YAHOO.replace("2024-01-03,10.5,12,10", "2024-01-03,10.5,9,10")),
    /spy\.csv: column low: low 10 > high 9 at row 1 \(line 3\)$/,
  );
  await assert.rejects(() => task(YAHOO, { close: "Last" }), /data\.columns\.close: no column "Last"/);
  // Close and CLOSE: neither is taken silently (the OHLC checks would not run); naming one resolves it.
  const twins = YAHOO.replace("Adj Close", "CLOSE");
  await assert.rejects(
    () => task(twins),
    /spy\.csv: columns "Close" and "CLOSE" both read as close ignoring case; set data\.columns\.close/,
  );
  assert.deepEqual(Array.from((await task(twins, { close: "CLOSE" })).columns.get("close")!), [
    10.4,
    11.3,
    11.8,
  ]);
});

Deno.test("config: data.columns takes a column name per role and rejects unknown roles", () => {
  const c = loadConfig("data:\n  columns: { close: Adj Close }\n", { env: () => undefined });
  assert.equal(c.data.columns.close, "Adj Close");
  assert.equal(c.data.columns.open, null);
  assert.throws(
    () => loadConfig("data:\n  columns: { price: Close }\n", { env: () => undefined }),
    /data\.columns\.price/,
  );
});

Deno.test("csvLine: the file's line of a data row, counting the header, blank lines and quoted line breaks", () => {
  const bytes = new TextEncoder().encode('\ntimestamp,note,close\n1,a,2\n\n2,"two\nlines",3\n3,c,4\n');
  assert.deepEqual([0, 1, 2].map((r) => csvLine(bytes, r)), [3, 5, 7]);
  const semi = new TextEncoder().encode("timestamp;close\n1;2,5\n2;3\n");
  assert.equal(csvLine(semi, 1), 3);
});

Deno.test("load (the CLI's loader): data.columns reaches the bars, and a mapping changes the cache key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fg-cols-" });
  try {
    await Deno.writeTextFile(`${dir}/spy.csv`, YAHOO);
    const source = new LocalStorage(dir);
    const plain = await load(source, "spy", "1d", { cache: null });
    const adj = await load(source, "spy", "1d", { cache: null, columns: { close: "Adj Close" } });
    assert.deepEqual(Array.from(plain.frame.columns.get("close")!), [10.5, 11.5, 12]);
    assert.deepEqual(Array.from(adj.frame.columns.get("close")!), [10.4, 11.3, 11.8]);
    assert.notEqual(adj.key, plain.key);
    const nulls = await load(source, "spy", "1d", { cache: null, columns: { close: null, open: null } });
    assert.equal(nulls.key, plain.key, "an all-null mapping (the default) keeps the key");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
