// Peak counts and the third-order lag statistics of a window (kernels/feature_lags.ts for the plane list
// and definitions): number_peaks with n = 3, 5, 10, c3 and time_reversal_asymmetry_statistic with lag 1, 2, 3.
// Peaks: one pass finds each point's peak radius (the largest k <= 10 with the point above all of its k
// neighbours on both sides, within the window), a peak for n where the radius is >= n. c3 and the
// statistic are not shift-invariant: with the window mean M = x_0 + mean(x - x_0) (x_0 = seg.init) and
// a = x - M (small), x = M + a expands them into sums of the small centred terms,
//   c3   = mean((M + a2)(M + a1)(M + a0)) = M (M (M + s1) + s2) + s3,
//          s1 = mean(a2 + a1 + a0), s2 = mean(a2 a1 + a1 a0 + a2 a0), s3 = mean(a2 a1 a0),
//   tras = mean(x1 (x2 - x0)(x2 + x0)) = M (2 M t1 + t2) + t3, d = x2 - x0 = (x2 - x_0) - (x0 - x_0),
//          t1 = mean(d), t2 = mean(d (a2 + a0 + 2 a1)), t3 = mean(d a1 (a2 + a0)),
// (a0, a1, a2 at i, i + lag, i + 2 lag; means over i < w - 2 lag), so the large level M enters only at the
// end and the sums carry errors relative to the window's spread, not its level. 0 where 2 lag >= w.

#include "feature_window.wgsl"
const PLANES: u32 = 9u;

// The window's x - x_0 at i, clamped into the window (masked reads beyond it never leave the window).
fn at(win: Win, i: u32) -> f32 { return x[win.first + min(i, win.w - 1u)]; }

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let f = win.first;
  var peaks = vec3<f32>(0.0);
  var sum = 0.0;
  for (var i = 0u; i < n; i++) {
    let v = x[f + i];
    sum += v;
    var k = 0u;
    while ((k < 10u) && (k < i) && (i + k + 1u < n)) {
      if (!((v > x[f + i - k - 1u]) && (v > x[f + i + k + 1u]))) { break; }
      k++;
    }
    peaks += select(vec3<f32>(0.0), vec3<f32>(1.0), vec3<u32>(k) >= vec3<u32>(3u, 5u, 10u));
  }
  let mean = sum / f32(n);
  var s1 = vec3<f32>(0.0);
  var s2 = vec3<f32>(0.0);
  var s3 = vec3<f32>(0.0);
  var t1 = vec3<f32>(0.0);
  var t2 = vec3<f32>(0.0);
  var t3 = vec3<f32>(0.0);
  for (var i = 0u; i < n; i++) {
    let y0 = x[f + i];
    let y1 = vec3<f32>(at(win, i + 1u), at(win, i + 2u), at(win, i + 3u));
    let y2 = vec3<f32>(at(win, i + 2u), at(win, i + 4u), at(win, i + 6u));
    let ok = vec3<u32>(i) + vec3<u32>(2u, 4u, 6u) < vec3<u32>(n);
    let a0 = vec3<f32>(y0 - mean);
    let a1 = y1 - mean;
    let a2 = y2 - mean;
    let d = y2 - y0;
    let zero = vec3<f32>(0.0);
    s1 += select(zero, a2 + a1 + a0, ok);
    s2 += select(zero, a2 * a1 + a1 * a0 + a2 * a0, ok);
    s3 += select(zero, a2 * a1 * a0, ok);
    t1 += select(zero, d, ok);
    t2 += select(zero, d * (a2 + a0 + 2.0 * a1), ok);
    t3 += select(zero, d * a1 * (a2 + a0), ok);
  }
  let m = seg.init + mean;
  let cnt = vec3<f32>(vec3<i32>(i32(n)) - vec3<i32>(2, 4, 6));
  let defined = vec3<u32>(n) > vec3<u32>(2u, 4u, 6u);
  let c = max(cnt, vec3<f32>(1.0));
  let c3 = select(vec3<f32>(0.0), m * (m * (m + s1 / c) + s2 / c) + s3 / c, defined);
  let tras = select(vec3<f32>(0.0), m * (2.0 * m * (t1 / c) + t2 / c) + t3 / c, defined);
  put3(0u, win.at, peaks);
  put3(3u, win.at, c3);
  put3(6u, win.at, tras);
}
