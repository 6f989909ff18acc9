// Sample entropy (m = 2, r = 0.2) and approximate entropy (m = 2, r = 0.2 and tsfresh's grid 0.1, 0.3, 0.5,
// 0.7, 0.9) of a window (kernels/feature_entropy.ts): the window's std (ddof 0) in two passes, then one double
// loop over the templates that counts, for each template i of 2 and each r, the templates j of 2 within r std
// (Chebyshev distance, j = i included) and, for the templates of 3, those within r std on all three rows.
// The six tolerances are the lanes of two vec4 (R_A, R_B; R_B's last two lanes repeat 0.9 and are not
// written), so the r grid adds no loop iterations. Sample entropy's pair counts are the sums of the r = 0.2 counts less
// the self matches; approximate entropy is the mean log of them. Counts are u32 (exact); no per-template
// storage.

#include "feature_window.wgsl"
const PLANES: u32 = 7u;

// r of lane: sample entropy's and approximate entropy's 0.2 first, then the grid.
const R_A = vec4<f32>(0.2, 0.1, 0.3, 0.5);
const R_B = vec4<f32>(0.7, 0.9, 0.9, 0.9);

// +Inf, built at run time as nan(): constant Inf expressions are rejected by Tint.
fn inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }

const LN2: f32 = 0.6931471805599453;

// Positive f32s as m 2^e with m in [1, 2), one per lane.
struct Split { m: vec4<f32>, e: vec4<i32> }

// a times positive normals v, renormalised by moving the exponent bits out (exact).
fn times(a: Split, v: vec4<f32>) -> Split {
  let bits = bitcast<vec4<u32>>(a.m * v);
  let e = vec4<i32>(bits >> vec4<u32>(23u)) - vec4<i32>(127);
  return Split(bitcast<vec4<f32>>((bits & vec4<u32>(0x007fffffu)) | vec4<u32>(0x3f800000u)), a.e + e);
}

// log of a Split.
fn split_log(a: Split) -> vec4<f32> { return log(a.m) + vec4<f32>(a.e) * LN2; }

// 1 per lane where d <= tol, else 0; `one` 0 counts nothing.
fn hits(d: f32, tol: vec4<f32>, one: u32) -> vec4<u32> {
  return select(vec4<u32>(0u), vec4<u32>(one), vec4<f32>(d) <= tol);
}

// Approximate entropy per lane (see features): |phi(2) - phi(3)|.
fn apen(p2: Split, p3: Split, log_last: vec4<f32>, f2: f32, f3: f32) -> vec4<f32> {
  let log_ratio = log(p2.m / p3.m) + vec4<f32>(p2.e - p3.e) * LN2;
  return abs(log_ratio / f3 - split_log(p2) / (f2 * f3) + log_last / f2 + log(f3 / f2));
}

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let nf = f32(n);
  let first = win.first;
  var sum = 0.0;
  for (var i = 0u; i < n; i++) { sum += x[first + i]; }
  let mean = sum / nf;
  var m2 = 0.0;
  for (var i = 0u; i < n; i++) {
    let d = x[first + i] - mean;
    m2 += d * d;
  }
  let sd = sqrt(m2 / nf);
  let tol_a = R_A * sd;
  let tol_b = R_B * sd;

  // Templates of 2 start at i < k2 = n - 1, templates of 3 at i < k3 = n - 2.
  let k2 = select(0u, n - 1u, n >= 2u);
  let k3 = select(0u, n - 2u, n >= 3u);
  var pairs2 = 0u; // sample entropy's B: ordered pairs i != j of templates of 2 within 0.2 std
  var pairs3 = 0u; // its A, templates of 3
  // Approximate entropy: phi(m) = (1/k) sum_i log(C_i / k) with k = k2 or k3 templates, regrouped as
  //   phi(2) - phi(3) = (1/k3) log(P2 / P3) - (1/(k2 k3)) log P2 + (1/k2) log C2_{k3} + log(k3 / k2),
  // P2, P3 the products of C2_i, C3_i over i < k3. Summing k f32 logs of ~log k each, then subtracting two
  // such sums, loses ~k eps absolute; the products lose ~k eps relative, i.e. ~k eps in the log, which the
  // 1/k3 divides out. They are kept as mantissa in [1, 2) and exponent (exact splits, no overflow).
  let one = Split(vec4<f32>(1.0), vec4<i32>(0));
  var p2a = one;
  var p3a = one;
  var p2b = one;
  var p3b = one;
  var last_a = vec4<f32>(0.0);
  var last_b = vec4<f32>(0.0);
  for (var i = 0u; i < k2; i++) {
    let a0 = x[first + i];
    let a1 = x[first + i + 1u];
    let a2 = x[first + min(i + 2u, n - 1u)]; // only used when i < k3; never reads past the window
    let use3 = i < k3;
    var c2a = vec4<u32>(0u);
    var c3a = vec4<u32>(0u);
    var c2b = vec4<u32>(0u);
    var c3b = vec4<u32>(0u);
    // Template j is (b0, b1, b2), slid along so that each step loads one value.
    var b0 = x[first];
    var b1 = x[first + 1u];
    for (var j = 0u; j < k2; j++) {
      let b2 = x[first + min(j + 2u, n - 1u)];
      // |a - b| is symmetric in f32, so pairs (i, j) and (j, i) always agree.
      let d2 = max(abs(a0 - b0), abs(a1 - b1));
      let d3 = max(d2, abs(a2 - b2));
      let valid3 = u32(use3 && j < k3);
      c2a += hits(d2, tol_a, 1u);
      c3a += hits(d3, tol_a, valid3);
      c2b += hits(d2, tol_b, 1u);
      c3b += hits(d3, tol_b, valid3);
      b0 = b1;
      b1 = b2;
    }
    pairs2 += c2a.x - 1u;
    if (use3) {
      pairs3 += c3a.x - 1u;
      p2a = times(p2a, vec4<f32>(c2a));
      p3a = times(p3a, vec4<f32>(c3a));
      p2b = times(p2b, vec4<f32>(c2b));
      p3b = times(p3b, vec4<f32>(c3b));
    } else {
      last_a = log(vec4<f32>(c2a));
      last_b = log(vec4<f32>(c2b));
    }
  }

  // -log(A / B): +Inf where A = 0, NaN where B = 0 (tsfresh's 0 / 0).
  let fa = f32(pairs3);
  let fb = f32(pairs2);
  var sampen = -log(fa / fb);
  if (pairs3 == 0u) { sampen = inf(); }
  if (pairs2 == 0u) { sampen = nan(); }

  // tsfresh returns 0 for n <= m + 1.
  var ap_a = vec4<f32>(0.0);
  var ap_b = vec4<f32>(0.0);
  if (n > 3u) {
    let f2 = f32(k2);
    let f3 = f32(k3);
    ap_a = apen(p2a, p3a, last_a, f2, f3);
    ap_b = apen(p2b, p3b, last_b, f2, f3);
  }

  put(0u, win.at, sampen);
  put3(1u, win.at, ap_a.xyz);
  put(4u, win.at, ap_a.w);
  put(5u, win.at, ap_b.x);
  put(6u, win.at, ap_b.y);
}
