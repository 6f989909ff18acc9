// Median, the quantiles 0.1 .. 0.9 (tenths) and two range-relative flags of a window
// (kernels/feature_quantiles.ts) by rank counting instead of sorting: value i is the k-th order statistic
// (0-based) when less(i) <= k < lessEq(i), so one double loop over the window finds all eighteen order
// statistics the ten features interpolate between, in O(w^2) time and no per-window storage. f32 rounding
// is monotone, so the order statistics are exact copies of the inputs (x - x_0; the host adds x_0 back).
// The same loop sums the window and finds its extrema; one more O(w) pass gives the central second moment
// for large_standard_deviation (std > r (max - min)) and symmetry_looking (|mean - median| < r (max - min)).

#include "feature_window.wgsl"
const PLANES: u32 = 11u;

// numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) for t >= 0.5 (exact at both ends).
fn lerp_np(a: f32, b: f32, t: f32) -> f32 {
  let d = b - a;
  return select(a + d * t, b - d * (1.0 - t), t >= 0.5);
}

// numpy's quantile k / 10 between order statistics lo and hi (fraction of position k (n - 1) / 10).
fn tenth(lo: f32, hi: f32, k: u32, last: u32) -> f32 {
  return lerp_np(lo, hi, f32(k * last % 10u) * 0.1);
}

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let last = n - 1u;
  // numpy's position q (n - 1) in exact integer arithmetic (q = 1/2 and k/10): the floor and the
  // fraction in tenths. f64's q (n - 1) may land 1 ulp either side of an integer, which moves the result
  // by ~1e-16 relative only (the lerp is continuous there). a: median, 0.1, 0.9; b: 0.2, 0.3, 0.4;
  // c: 0.6, 0.7, 0.8.
  let lo_a = vec3<u32>(last / 2u, last / 10u, 9u * last / 10u);
  let hi_a = vec3<u32>(n / 2u, min(lo_a.y + 1u, last), min(lo_a.z + 1u, last));
  let lo_b = vec3<u32>(2u, 3u, 4u) * last / 10u;
  let hi_b = min(lo_b + 1u, vec3<u32>(last));
  let lo_c = vec3<u32>(6u, 7u, 8u) * last / 10u;
  let hi_c = min(lo_c + 1u, vec3<u32>(last));
  var vlo_a = vec3<f32>(0.0);
  var vhi_a = vec3<f32>(0.0);
  var vlo_b = vec3<f32>(0.0);
  var vhi_b = vec3<f32>(0.0);
  var vlo_c = vec3<f32>(0.0);
  var vhi_c = vec3<f32>(0.0);
  var sum = 0.0;
  var lo = x[win.first];
  var hi = lo;
  for (var i = 0u; i < n; i++) {
    let xi = x[win.first + i];
    sum += xi;
    lo = min(lo, xi);
    hi = max(hi, xi);
    var less = 0u;
    var less_eq = 0u;
    for (var j = 0u; j < n; j++) {
      let xj = x[win.first + j];
      less += u32(xj < xi);
      less_eq += u32(xj <= xi);
    }
    let a = vec3<u32>(less);
    let b = vec3<u32>(less_eq);
    let v = vec3<f32>(xi);
    vlo_a = select(vlo_a, v, (a <= lo_a) & (lo_a < b));
    vhi_a = select(vhi_a, v, (a <= hi_a) & (hi_a < b));
    vlo_b = select(vlo_b, v, (a <= lo_b) & (lo_b < b));
    vhi_b = select(vhi_b, v, (a <= hi_b) & (hi_b < b));
    vlo_c = select(vlo_c, v, (a <= lo_c) & (lo_c < b));
    vhi_c = select(vhi_c, v, (a <= hi_c) & (hi_c < b));
  }
  let nf = f32(n);
  let mean = sum / nf;
  var m2 = 0.0;
  for (var i = 0u; i < n; i++) {
    let d = x[win.first + i] - mean;
    m2 += d * d;
  }
  let median = (vlo_a.x + vhi_a.x) * 0.5;
  let range = hi - lo;
  put(0u, win.at, median);
  put(1u, win.at, lerp_np(vlo_a.y, vhi_a.y, f32(last % 10u) * 0.1));
  put(2u, win.at, lerp_np(vlo_a.z, vhi_a.z, f32(9u * last % 10u) * 0.1));
  put(3u, win.at, tenth(vlo_b.x, vhi_b.x, 2u, last));
  put(4u, win.at, tenth(vlo_b.y, vhi_b.y, 3u, last));
  put(5u, win.at, tenth(vlo_b.z, vhi_b.z, 4u, last));
  put(6u, win.at, tenth(vlo_c.x, vhi_c.x, 6u, last));
  put(7u, win.at, tenth(vlo_c.y, vhi_c.y, 7u, last));
  put(8u, win.at, tenth(vlo_c.z, vhi_c.z, 8u, last));
  // A constant window has exactly zero spread (f32 rounding of the mean must not invent one).
  put(9u, win.at, select(0.0, 1.0, (range > 0.0) && (sqrt(m2 / nf) > 0.25 * range)));
  put(10u, win.at, select(0.0, 1.0, abs(mean - median) < 0.05 * range));
}
