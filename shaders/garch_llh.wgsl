// GARCH(1,1) Gaussian log-likelihood of many (series, candidate parameter) pairs: one invocation runs the
// O(n) recursion s2_t = omega + alpha e_{t-1}^2 + beta s2_{t-1}, e_t = x_t - mu, for one candidate on its
// series (centred and scaled on the host), with pre-sample e_0^2 = s2_0 = B (B, dB/dmu, d2B/dmu2 given per
// candidate, computed in f64 on the host). See kernels/garch.ts for the model and kernels/garch_gpu.ts for
// the search that drives this shader.
//
// Output per candidate, FULL = true: 25 values — sum_t (log s2_t + e_t^2 / s2_t) (the host forms
// LL = -(n log 2 pi + sum) / 2 in f64), the gradient of LL (4), the Hessian of LL (10, packed lower
// triangle: 00 10 11 20 21 22 30 31 32 33, order mu omega alpha beta) and the sum of score outer products
// (10, same packing). FULL = false: the sum only, over the first LIMIT points (grid search). Sums are blocked: 64 terms are added into a
// block partial that is then added to the total, so the f32 rounding error grows with n / 64 + 64
// instead of n.

override FULL: bool = true;
override WG: u32 = 64u;
// LL-only mode scores at most the first LIMIT points of each series (the starting grid's subsample).
override LIMIT: u32 = 0xffffffffu;

struct Cand { th: vec4<f32>, b: f32, db: f32, d2b: f32, seg: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<vec2<u32>>; // (offset, length) per series
@group(0) @binding(2) var<storage, read> cands: array<Cand>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const NOUT: u32 = 25u;
const BLOCK: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= arrayLength(&cands)) { return; }
  let c = cands[i];
  let seg = segs[c.seg];
  let mu = c.th.x;
  let om = c.th.y;
  let al = c.th.z;
  let be = c.th.w;
  let ab = al + be;

  if (!FULL) {
    var total = 0.0;
    var part = 0.0;
    var h = om + ab * c.b;
    var ep2 = 0.0;
    for (var t = 0u; t < min(seg.y, LIMIT); t++) {
      if (t > 0u) { h = om + al * ep2 + be * h; }
      let e = x[seg.x + t] - mu;
      ep2 = e * e;
      part += log(h) + ep2 / h;
      if ((t % BLOCK) == BLOCK - 1u) { total += part; part = 0.0; }
    }
    out[i] = total + part;
    return;
  }

  // s2 and its derivatives in (mu, omega, alpha, beta) at t = 1.
  var h = om + ab * c.b;
  var dm = ab * c.db;
  var d_o = 1.0;
  var da = c.b;
  var db = c.b;
  // The second derivatives of s2 that are not identically zero.
  var hmm = ab * c.d2b;
  var hma = c.db;
  var hmb = c.db;
  var hob = 0.0;
  var hab = 0.0;
  var hbb = 0.0;
  var acc: array<f32, 25>;
  var blk: array<f32, 25>;
  var ep = 0.0;
  for (var t = 0u; t < seg.y; t++) {
    if (t > 0u) {
      let hp = h;
      hbb = 2.0 * db + be * hbb;
      hab = da + be * hab;
      hob = d_o + be * hob;
      hmb = dm + be * hmb;
      hma = -2.0 * ep + be * hma;
      hmm = 2.0 * al + be * hmm;
      dm = -2.0 * al * ep + be * dm;
      d_o = 1.0 + be * d_o;
      da = ep * ep + be * da;
      db = hp + be * db;
      h = om + al * ep * ep + be * hp;
    }
    let e = x[seg.x + t] - mu;
    let u = 1.0 / h;
    let q = e * e * u;
    let a = 0.5 * (q - 1.0) * u;
    let cc = 0.5 * u * u * (1.0 - 2.0 * q);
    let eu = e * u;
    let eu2 = eu * u;
    let s0 = a * dm + eu;
    let s1 = a * d_o;
    let s2 = a * da;
    let s3 = a * db;
    blk[0] += log(h) + q;
    blk[1] += s0;
    blk[2] += s1;
    blk[3] += s2;
    blk[4] += s3;
    blk[5] += cc * dm * dm + a * hmm - 2.0 * eu2 * dm - u;
    blk[6] += cc * d_o * dm - eu2 * d_o;
    blk[7] += cc * d_o * d_o;
    blk[8] += cc * da * dm + a * hma - eu2 * da;
    blk[9] += cc * da * d_o;
    blk[10] += cc * da * da;
    blk[11] += cc * db * dm + a * hmb - eu2 * db;
    blk[12] += cc * db * d_o + a * hob;
    blk[13] += cc * db * da + a * hab;
    blk[14] += cc * db * db + a * hbb;
    blk[15] += s0 * s0;
    blk[16] += s1 * s0;
    blk[17] += s1 * s1;
    blk[18] += s2 * s0;
    blk[19] += s2 * s1;
    blk[20] += s2 * s2;
    blk[21] += s3 * s0;
    blk[22] += s3 * s1;
    blk[23] += s3 * s2;
    blk[24] += s3 * s3;
    if ((t % BLOCK) == BLOCK - 1u) {
      for (var k = 0u; k < NOUT; k++) { acc[k] += blk[k]; blk[k] = 0.0; }
    }
    ep = e;
  }
  for (var k = 0u; k < NOUT; k++) { out[i * NOUT + k] = acc[k] + blk[k]; }
}
