// The GARCH family's log-likelihood (kernels/garch_model.ts: GARCH(p, q) / GJR, normal, Student-t or Hansen's
// skewed-t innovations) of many (series, candidate parameter) pairs: one invocation runs the O(n) recursion
// s2_t = omega + sum_i (alpha_i + gamma_i 1[e_{t-i} < 0]) e_{t-i}^2 + sum_j beta_j s2_{t-j} for one candidate
// on its series (centred and scaled on the host), with the pre-sample values B, Bn and their mu-derivatives
// given per candidate. It is garch_llh.wgsl's recursion generalised (that shader keeps GARCH(1,1)-normal's
// closed-form Hessian, which the default fit uses); the search that drives this one is kernels/garch_model_gpu.ts.
//
// Candidate c: theta at cands[c * CAND ..] (K used: mu, omega, alphas, gammas, betas, nu, lambda), then
// b, db, bn, dbn, then the density's constants from the host (f64 there): k0, a, b, nu, lambda and
// d(k0, a, b)/dnu, d(k0, a, b)/dlambda (Hansen's form, log f(z) = k0 - (nu+1)/2 log(1 + y^2/(nu-2)),
// y = (b z + a) / (1 +- lambda); the t is a = 0, b = 1, lambda = 0).
// Output per candidate, FULL: 1 + K + K(K+1)/2 values — LL, its gradient, and the sum of per-observation score
// outer products (packed lower triangle, row by row); else LL only, over the first LIMIT points. Sums are
// blocked as in garch_llh.wgsl (64 terms into a block partial, then into the total).
//
// One dispatch runs the points [t0, t1) of `range` and keeps the recursion's state (lags, derivatives, sums)
// in `state` between dispatches: the host cuts a series into chunks (multiples of 64 points) only on the
// software adapter, whose invocations are killed after 65,535 loop iterations in all; elsewhere one dispatch
// covers the series.

override P: u32 = 1u;
override Q: u32 = 1u;
override GJR: bool = false;
// 0 normal, 1 Student-t, 2 skewed t.
override DIST: u32 = 0u;
override K: u32 = 4u;
override FULL: bool = true;
override WG: u32 = 64u;
override LIMIT: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<vec2<u32>>; // (offset, length) per series
@group(0) @binding(2) var<storage, read> cands: array<f32>;
// The candidate count, then each candidate's series (local index): the pool's buffers are larger than asked,
// so arrayLength cannot give the count.
@group(0) @binding(3) var<storage, read> cseg: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;
@group(0) @binding(6) var<storage, read> range: array<u32>; // t0, t1

const CAND: u32 = 32u;
const MAXK: u32 = 13u;
const MAXOUT: u32 = 105u; // 1 + MAXK + MAXK (MAXK + 1) / 2
const BLOCK: u32 = 64u;
// State per candidate: e2, en, de2, den, hs (3 each), dhs (3 x MAXK), acc (MAXOUT).
const STATE: u32 = 159u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= cseg[0]) { return; }
  let seg = segs[cseg[1u + i]];
  let base = i * CAND;
  var th: array<f32, 13>;
  for (var c = 0u; c < K; c++) { th[c] = cands[base + c]; }
  let b0 = cands[base + 13u];
  let db0 = cands[base + 14u];
  let bn0 = cands[base + 15u];
  let dbn0 = cands[base + 16u];
  let k0 = cands[base + 17u];
  let da = cands[base + 18u];
  let dbb = cands[base + 19u];
  let nu = cands[base + 20u];
  let lam = cands[base + 21u];
  let k0n = cands[base + 22u];
  let an = cands[base + 23u];
  let bnu = cands[base + 24u];
  let k0l = cands[base + 25u];
  let al = cands[base + 26u];
  let bl = cands[base + 27u];
  let ai = 2u;
  let gi = 2u + P;
  let bi = select(2u + P, 2u + 2u * P, GJR);
  let si = bi + Q;
  let nout = select(1u, 1u + K + K * (K + 1u) / 2u, FULL);

  // Lag buffers (index 0 = lag 1): e^2, e^2 1[e<0], their mu-derivatives, s2 and ds2/dtheta.
  var e2: array<f32, 3>;
  var en: array<f32, 3>;
  var de2: array<f32, 3>;
  var den: array<f32, 3>;
  var hs: array<f32, 3>;
  var dhs: array<array<f32, 13>, 3>;
  var acc: array<f32, 105>;
  let n = select(min(seg.y, LIMIT), seg.y, FULL);
  let t0 = range[0];
  let t1 = min(range[1], n);
  if (t0 >= n) { return; }
  let st = i * STATE;
  if (t0 == 0u) {
    for (var l = 0u; l < 3u; l++) {
      e2[l] = b0;
      en[l] = select(0.0, bn0, GJR);
      de2[l] = db0;
      den[l] = select(0.0, dbn0, GJR);
      hs[l] = b0;
      dhs[l][0] = db0;
    }
  } else {
    for (var l = 0u; l < 3u; l++) {
      e2[l] = state[st + l];
      en[l] = state[st + 3u + l];
      de2[l] = state[st + 6u + l];
      den[l] = state[st + 9u + l];
      hs[l] = state[st + 12u + l];
      for (var c = 0u; c < si; c++) { dhs[l][c] = state[st + 15u + l * MAXK + c]; }
    }
    for (var k = 0u; k < nout; k++) { acc[k] = state[st + 54u + k]; }
  }
  var dh: array<f32, 13>;
  var s: array<f32, 13>;
  var blk: array<f32, 105>;
  for (var t = t0; t < t1; t++) {
    var h = th[1];
    for (var l = 0u; l < P; l++) {
      h += th[ai + l] * e2[l];
      if (GJR) { h += th[gi + l] * en[l]; }
    }
    for (var l = 0u; l < Q; l++) { h += th[bi + l] * hs[l]; }
    let e = x[seg.x + t] - th[0];
    let sd = sqrt(h);
    let z = e / sd;
    var lf: f32;
    var dz: f32;
    var dnu = 0.0;
    var dlam = 0.0;
    if (DIST == 0u) {
      lf = k0 - 0.5 * z * z;
      dz = -z;
    } else {
      let neg = dbb * z + da < 0.0;
      let sk = select(1.0 + lam, 1.0 - lam, neg);
      let y = (dbb * z + da) / sk;
      let nu2 = nu - 2.0;
      let w = 1.0 + y * y / nu2;
      let lw = log(w);
      lf = k0 - 0.5 * (nu + 1.0) * lw;
      let cy = (nu + 1.0) * y / (nu2 * w); // d/dy of (nu+1)/2 log w
      dz = -cy * dbb / sk;
      dnu = k0n - 0.5 * lw - cy * (bnu * z + an) / sk + 0.5 * (nu + 1.0) * y * y / (nu2 * nu2 * w);
      if (DIST == 2u) {
        dlam = k0l - cy * ((bl * z + al) / sk - y * select(1.0, -1.0, neg) / sk);
      }
    }
    blk[0] += lf - 0.5 * log(h);
    if (FULL) {
      for (var c = 0u; c < K; c++) { dh[c] = 0.0; }
      dh[1] = 1.0;
      for (var l = 0u; l < P; l++) {
        dh[0] += th[ai + l] * de2[l];
        dh[ai + l] = e2[l];
        if (GJR) {
          dh[0] += th[gi + l] * den[l];
          dh[gi + l] = en[l];
        }
      }
      for (var l = 0u; l < Q; l++) {
        dh[bi + l] += hs[l];
        for (var c = 0u; c < si; c++) { dh[c] += th[bi + l] * dhs[l][c]; }
      }
      let lh = -0.5 * (dz * z + 1.0) / h;
      for (var c = 0u; c < si; c++) { s[c] = lh * dh[c]; }
      s[0] -= dz / sd;
      if (DIST >= 1u) { s[si] = dnu; }
      if (DIST == 2u) { s[si + 1u] = dlam; }
      var o = 1u + K;
      for (var a = 0u; a < K; a++) {
        blk[1u + a] += s[a];
        for (var c = 0u; c <= a; c++) {
          blk[o] += s[a] * s[c];
          o++;
        }
      }
      // Lags shift by one (at most 3, unrolled).
      if (Q > 2u) { dhs[2] = dhs[1]; }
      if (Q > 1u) { dhs[1] = dhs[0]; }
      for (var c = 0u; c < si; c++) { dhs[0][c] = dh[c]; }
      if (P > 2u) { de2[2] = de2[1]; den[2] = den[1]; }
      if (P > 1u) { de2[1] = de2[0]; den[1] = den[0]; }
      de2[0] = -2.0 * e;
      den[0] = select(0.0, -2.0 * e, e < 0.0);
    }
    if (P > 2u) { e2[2] = e2[1]; en[2] = en[1]; }
    if (P > 1u) { e2[1] = e2[0]; en[1] = en[0]; }
    e2[0] = e * e;
    en[0] = select(0.0, e * e, e < 0.0);
    if (Q > 2u) { hs[2] = hs[1]; }
    if (Q > 1u) { hs[1] = hs[0]; }
    hs[0] = h;
    if ((t % BLOCK) == BLOCK - 1u) {
      for (var k = 0u; k < nout; k++) { acc[k] += blk[k]; blk[k] = 0.0; }
    }
  }
  if (t1 >= n) {
    for (var k = 0u; k < nout; k++) { out[i * nout + k] = acc[k] + blk[k]; }
    return;
  }
  // Chunks end on a block boundary, so blk is 0 here.
  for (var l = 0u; l < 3u; l++) {
    state[st + l] = e2[l];
    state[st + 3u + l] = en[l];
    state[st + 6u + l] = de2[l];
    state[st + 9u + l] = den[l];
    state[st + 12u + l] = hs[l];
    for (var c = 0u; c < si; c++) { state[st + 15u + l * MAXK + c] = dhs[l][c]; }
  }
  for (var k = 0u; k < nout; k++) { state[st + 54u + k] = acc[k]; }
}
