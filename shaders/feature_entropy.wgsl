// Sample, approximate (m = 2, r = 0.2) and permutation (dimension 3, tau 1) entropy of a window
// (kernels/feature_entropy.ts): the window's std (ddof 0) in two passes, then one double loop over the
// templates that counts, for each template i of 2, the templates j of 2 within r std (Chebyshev distance,
// j = i included) and, for the templates of 3, those within r std on all three rows. Sample entropy's pair
// counts are the sums of those counts less the self matches; approximate entropy is the mean log of them.
// Counts are u32 (exact); no per-template storage.

#include "feature_window.wgsl"
const PLANES: u32 = 3u;

// +Inf, built at run time as nan(): constant Inf expressions are rejected by Tint.
fn inf() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }

const LN2: f32 = 0.6931471805599453;

// A positive f32 as m 2^e with m in [1, 2).
struct Split { m: f32, e: i32 }

// a times a positive normal v, renormalised by moving the exponent bits out (exact).
fn times(a: Split, v: f32) -> Split {
  let bits = bitcast<u32>(a.m * v);
  let e = i32(bits >> 23u) - 127;
  return Split(bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u), a.e + e);
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
  let tol = 0.2 * sqrt(m2 / nf);

  // Templates of 2 start at i < k2 = n - 1, templates of 3 at i < k3 = n - 2.
  let k2 = select(0u, n - 1u, n >= 2u);
  let k3 = select(0u, n - 2u, n >= 3u);
  var pairs2 = 0u; // sample entropy's B: ordered pairs i != j of templates of 2 within tol
  var pairs3 = 0u; // its A, templates of 3
  // Approximate entropy: phi(m) = (1/k) sum_i log(C_i / k) with k = k2 or k3 templates, regrouped as
  //   phi(2) - phi(3) = (1/k3) log(P2 / P3) - (1/(k2 k3)) log P2 + (1/k2) log C2_{k3} + log(k3 / k2),
  // P2, P3 the products of C2_i, C3_i over i < k3. Summing k f32 logs of ~log k each, then subtracting two
  // such sums, loses ~k eps absolute; the products lose ~k eps relative, i.e. ~k eps in the log, which the
  // 1/k3 divides out. They are kept as mantissa in [1, 2) and exponent (exact splits, no overflow).
  var p2 = Split(1.0, 0);
  var p3 = Split(1.0, 0);
  var log_last = 0.0;
  for (var i = 0u; i < k2; i++) {
    let a0 = x[first + i];
    let a1 = x[first + i + 1u];
    let a2 = x[first + min(i + 2u, n - 1u)]; // only used when i < k3; never reads past the window
    let use3 = i < k3;
    var c2 = 0u;
    var c3 = 0u;
    // Template j is (b0, b1, b2), slid along so that each step loads one value.
    var b0 = x[first];
    var b1 = x[first + 1u];
    for (var j = 0u; j < k2; j++) {
      let b2 = x[first + min(j + 2u, n - 1u)];
      // |a - b| is symmetric in f32, so pairs (i, j) and (j, i) always agree.
      let near2 = max(abs(a0 - b0), abs(a1 - b1)) <= tol;
      c2 += u32(near2);
      c3 += u32(near2 && use3 && j < k3 && abs(a2 - b2) <= tol);
      b0 = b1;
      b1 = b2;
    }
    pairs2 += c2 - 1u;
    if (use3) {
      pairs3 += c3 - 1u;
      p2 = times(p2, f32(c2));
      p3 = times(p3, f32(c3));
    } else {
      log_last = log(f32(c2));
    }
  }

  // -log(A / B): +Inf where A = 0, NaN where B = 0 (tsfresh's 0 / 0).
  let fa = f32(pairs3);
  let fb = f32(pairs2);
  var sampen = -log(fa / fb);
  if (pairs3 == 0u) { sampen = inf(); }
  if (pairs2 == 0u) { sampen = nan(); }

  // tsfresh returns 0 for n <= m + 1.
  var apen = 0.0;
  if (n > 3u) {
    let f2 = f32(k2);
    let f3 = f32(k3);
    let log_ratio = log(p2.m / p3.m) + f32(p2.e - p3.e) * LN2;
    let log_p2 = log(p2.m) + f32(p2.e) * LN2;
    apen = abs(log_ratio / f3 - log_p2 / (f2 * f3) + log_last / f2 + log(f3 / f2));
  }

  // Ordinal patterns of 3 under a stable sort (ties ranked by position): rank of the first element and
  // whether the second outranks the third pick one of the 6 patterns.
  var cnt = array<u32, 6>(0u, 0u, 0u, 0u, 0u, 0u);
  for (var i = 0u; i < k3; i++) {
    let a = x[first + i];
    let b = x[first + i + 1u];
    let c = x[first + i + 2u];
    let ra = u32(b < a) + u32(c < a);
    let rb = u32(a <= b) + u32(c < b);
    let rc = u32(a <= c) + u32(b <= c);
    cnt[2u * ra + u32(rb > rc)] += 1u;
  }
  var pe = nan();
  if (k3 > 0u) {
    let kf = f32(k3);
    pe = 0.0;
    for (var p = 0u; p < 6u; p++) {
      if (cnt[p] > 0u) {
        let q = f32(cnt[p]) / kf;
        pe -= q * log(q);
      }
    }
  }

  put(0u, win.at, sampen);
  put(1u, win.at, apen);
  put(2u, win.at, pe);
}
