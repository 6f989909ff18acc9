// Energy, change, extremum-location and dispersion features of a window (kernels/feature_extra.ts for the
// plane list and definitions): three O(w) passes over the window, the first for the sum and the extrema
// (first/last position and multiplicity of the minimum and maximum), the second for the central second
// moment and the changes, the third for the points beyond r std of the mean. Works on x - x_0
// (x_0 = seg.init); the features that are not shift-invariant (abs_energy, root_mean_square,
// absolute_maximum) are computed from the true values: sum x^2 = sum (x - m)^2 + w m^2 with m = x_0 + the
// window mean of x - x_0 (two non-negative terms: no cancellation) and max |x| = max(|max x|, |min x|).

#include "feature_window.wgsl"
const PLANES: u32 = 16u;

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let nf = f32(n);
  let f = win.first;
  var sum = 0.0;
  var lo = x[f];
  var hi = lo;
  var lo_first = 0u;
  var lo_last = 0u;
  var lo_count = 0u;
  var hi_first = 0u;
  var hi_last = 0u;
  var hi_count = 0u;
  for (var i = 0u; i < n; i++) {
    let v = x[f + i];
    sum += v;
    if (v > hi) {
      hi = v;
      hi_first = i;
      hi_last = i;
      hi_count = 1u;
    } else if (v == hi) {
      hi_last = i;
      hi_count += 1u;
    }
    if (v < lo) {
      lo = v;
      lo_first = i;
      lo_last = i;
      lo_count = 1u;
    } else if (v == lo) {
      lo_last = i;
      lo_count += 1u;
    }
  }
  let mean = sum / nf;
  var m2 = 0.0;
  var asc = 0.0;
  var dsq = 0.0;
  for (var i = 0u; i < n; i++) {
    let v = x[f + i];
    let d = v - mean;
    m2 += d * d;
    if (i > 0u) {
      let c = v - x[f + i - 1u];
      asc += abs(c);
      dsq += c * c;
    }
  }
  // A constant window has exactly zero spread (f32 rounding of the mean must not invent one).
  let flat = lo == hi;
  let variance = select(m2 / nf, 0.0, flat);
  let sd = sqrt(variance);
  var beyond1 = 0.0;
  var beyond2 = 0.0;
  for (var i = 0u; i < n; i++) {
    let e = abs(x[f + i] - mean);
    if (e > sd) { beyond1 += 1.0; }
    if (e > 2.0 * sd) { beyond2 += 1.0; }
  }
  let m = seg.init + mean;
  let last = f + n - 1u;
  var mean_change = nan();
  var msdc = nan();
  if (n > 1u) { mean_change = (x[last] - x[f]) / (nf - 1.0); }
  if (n > 2u) { msdc = (x[last] - x[last - 1u] - x[f + 1u] + x[f]) / (2.0 * (nf - 2.0)); }
  put(0u, win.at, variance * nf + nf * m * m);
  put(1u, win.at, sqrt(variance + m * m));
  put(2u, win.at, max(abs(hi + seg.init), abs(lo + seg.init)));
  put(3u, win.at, asc);
  put(4u, win.at, mean_change);
  put(5u, win.at, msdc);
  put(6u, win.at, select(0.0, 1.0, variance > sd));
  put(7u, win.at, select(0.0, 1.0, hi_count >= 2u));
  put(8u, win.at, select(0.0, 1.0, lo_count >= 2u));
  put(9u, win.at, f32(hi_first) / nf);
  put(10u, win.at, f32(lo_first) / nf);
  put(11u, win.at, 1.0 - f32(n - 1u - hi_last) / nf);
  put(12u, win.at, 1.0 - f32(n - 1u - lo_last) / nf);
  put(13u, win.at, select(sqrt(dsq) / sd, 0.0, flat));
  put(14u, win.at, select(beyond1 / nf, 0.0, flat));
  put(15u, win.at, select(beyond2 / nf, 0.0, flat));
}
