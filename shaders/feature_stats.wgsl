// Moment, order-free and mean-crossing features of a window (kernels/feature_stats.ts for the plane list
// and definitions): two passes over the window, the first for sum/min/max, the second for the central
// moments and everything measured against the mean. Works on x - x_0 (x_0 = seg.init): the host adds x_0
// back to mean/min/max, the shader adds w x_0 to the sum.

#include "feature_window.wgsl"
const PLANES: u32 = 16u;

fn fperr(v: f32) -> f32 { return select(v, 0.0, abs(v) < 1e-14); }

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let nf = f32(n);
  var sum = 0.0;
  var lo = x[win.first];
  var hi = lo;
  for (var i = 0u; i < n; i++) {
    let v = x[win.first + i];
    sum += v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let mean = sum / nf;
  var m2 = 0.0;
  var m3 = 0.0;
  var m4 = 0.0;
  var sxy = 0.0;
  var mac = 0.0;
  var peaks = 0.0;
  var above = 0.0;
  var below = 0.0;
  var run_a = 0.0;
  var run_b = 0.0;
  var best_a = 0.0;
  var best_b = 0.0;
  let c = (nf - 1.0) * 0.5;
  for (var i = 0u; i < n; i++) {
    let v = x[win.first + i];
    let d = v - mean;
    let d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
    sxy += (f32(i) - c) * d;
    if (i > 0u) { mac += abs(v - x[win.first + i - 1u]); }
    if (i > 0u && i + 1u < n && v > x[win.first + i - 1u] && v > x[win.first + i + 1u]) { peaks += 1.0; }
    if (v > mean) { above += 1.0; run_a += 1.0; } else { run_a = 0.0; }
    if (v < mean) { below += 1.0; run_b += 1.0; } else { run_b = 0.0; }
    best_a = max(best_a, run_a);
    best_b = max(best_b, run_b);
  }
  // A constant window has exactly zero spread (f32 rounding of the mean must not invent one); below that,
  // pandas' rule: a moment sum under 1e-14 in absolute value counts as 0, and a zero denominator gives 0.
  let flat = lo == hi;
  let z2 = fperr(m2);
  let z3 = fperr(m3);
  var skew = nan();
  var kurt = nan();
  if (n >= 3u) {
    skew = select(nf * sqrt(nf - 1.0) / (nf - 2.0) * (z3 / (z2 * sqrt(z2))), 0.0, flat || z2 == 0.0);
  }
  if (n >= 4u) {
    let a = (nf - 2.0) * (nf - 3.0);
    let num = fperr(nf * (nf + 1.0) * (nf - 1.0) * m4);
    let den = fperr(a * m2 * m2);
    // num / den, in a form that cannot overflow f32.
    let ratio = select(nf * (nf + 1.0) * (nf - 1.0) / a * (m4 / m2) / m2, 0.0, num == 0.0);
    kurt = select(ratio - 3.0 * (nf - 1.0) * (nf - 1.0) / a, 0.0, flat || den == 0.0);
  }
  let variance = select(m2 / nf, 0.0, flat);
  put(0u, win.at, nf);
  put(1u, win.at, sum + nf * seg.init);
  put(2u, win.at, mean);
  put(3u, win.at, variance);
  put(4u, win.at, sqrt(variance));
  put(5u, win.at, lo);
  put(6u, win.at, hi);
  put(7u, win.at, skew);
  put(8u, win.at, kurt);
  put(9u, win.at, select(mac / (nf - 1.0), nan(), n < 2u));
  put(10u, win.at, sxy / (nf * (nf * nf - 1.0) / 12.0));
  put(11u, win.at, peaks);
  put(12u, win.at, select(best_a, 0.0, flat));
  put(13u, win.at, select(best_b, 0.0, flat));
  put(14u, win.at, select(above, 0.0, flat));
  put(15u, win.at, select(below, 0.0, flat));
}
