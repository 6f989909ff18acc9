// tsfresh's fft_aggregated (centroid, variance, skew, kurtosis) of a window (kernels/feature_fft.ts): the
// moments of |rfft(x)| over the bin index k = 0..n/2, by a direct DFT. Bins k >= 1 are shift-invariant and
// are taken of the window minus its mean (so f32 sums see the window's spread, not its level); the DC bin
// is |sum x| of the true values: sum(x - x_0) + n x_0, x_0 = seg.init.

#include "feature_window.wgsl"
const PLANES: u32 = 4u;
const TAU: f32 = 6.283185307179586;

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let nf = f32(n);
  // Deviations from the first value are exact for nearby values (Sterbenz) and of the window's scale, so
  // the f32 mean of them is accurate to the window's spread (a constant window centres to exact zeros).
  let pivot = x[win.first];
  var sum = 0.0;
  for (var i = 0u; i < n; i++) { sum += x[win.first + i] - pivot; }
  let mean = sum / nf;
  let d0 = x[win.first] - pivot - mean;
  let half = n / 2u;
  let pairs = (n - 1u) / 2u;
  // s_p = sum_k |X_k| k^p; the DC bin adds only to s_0.
  var s0 = abs(sum + nf * (pivot + seg.init));
  var s1 = 0.0;
  var s2 = 0.0;
  var s3 = 0.0;
  var s4 = 0.0;
  for (var k = 1u; k <= half; k++) {
    // Rows j and n - j share the twiddle angle 2 pi jk / n up to its sign: one cos/sin for both.
    var re = d0;
    var im = 0.0;
    var idx = 0u;
    for (var j = 1u; j <= pairs; j++) {
      idx += k;
      if (idx >= n) { idx -= n; }
      // jk mod n, taken into (-n/2, n/2] so the angle lies in [-pi, pi] where cos/sin are accurate.
      let a = TAU * (select(f32(idx), f32(idx) - nf, 2u * idx > n) / nf);
      let u = x[win.first + j] - pivot - mean;
      let v = x[win.first + n - j] - pivot - mean;
      re += (u + v) * cos(a);
      im -= (u - v) * sin(a);
    }
    // Even n: row n/2 has twiddle (-1)^k.
    if (2u * half == n) { re += select(1.0, -1.0, (k & 1u) == 1u) * (x[win.first + half] - pivot - mean); }
    let y = sqrt(re * re + im * im);
    let kf = f32(k);
    s0 += y;
    s1 += y * kf;
    s2 += y * kf * kf;
    s3 += y * kf * kf * kf;
    s4 += y * kf * kf * kf * kf;
  }
  // tsfresh's aggregation, kurtosis formula (with its `- 3 m1`) as is; NaN where every bin is 0.
  let m1 = s1 / s0;
  let m2 = s2 / s0;
  let m3 = s3 / s0;
  let m4 = s4 / s0;
  let va = m2 - m1 * m1;
  let some = s0 > 0.0;
  let shape = some && va >= 0.5;
  put(0u, win.at, select(nan(), m1, some));
  put(1u, win.at, select(nan(), va, some));
  put(2u, win.at, select(nan(), (m3 - 3.0 * m1 * va - m1 * m1 * m1) / (va * sqrt(va)), shape));
  put(3u, win.at, select(nan(), (m4 - 4.0 * m1 * m3 + 6.0 * m2 * m1 * m1 - 3.0 * m1) / (va * va), shape));
}
