// Median and the 0.1 / 0.9 quantiles of a window (kernels/feature_quantiles.ts) by rank counting instead of
// sorting: value i is the k-th order statistic (0-based) when less(i) <= k < lessEq(i), so one double loop
// over the window finds all six order statistics the three features interpolate between, in O(w^2) time and
// no per-window storage. f32 rounding is monotone, so the order statistics are exact copies of the inputs
// (x - x_0; the host adds x_0 back).

#include "feature_window.wgsl"
const PLANES: u32 = 3u;

// numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) for t >= 0.5 (exact at both ends).
fn lerp_np(a: f32, b: f32, t: f32) -> f32 {
  let d = b - a;
  return select(a + d * t, b - d * (1.0 - t), t >= 0.5);
}

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let last = n - 1u;
  // numpy's position q (n - 1) in exact integer arithmetic (q = 1/2, 1/10, 9/10): the floor and the
  // fraction in tenths. f64's q (n - 1) may land 1 ulp either side of an integer, which moves the result
  // by ~1e-16 relative only (the lerp is continuous there).
  let lo = vec3<u32>(last / 2u, last / 10u, 9u * last / 10u);
  let hi = vec3<u32>(n / 2u, min(lo.y + 1u, last), min(lo.z + 1u, last));
  var vlo = vec3<f32>(0.0);
  var vhi = vec3<f32>(0.0);
  for (var i = 0u; i < n; i++) {
    let xi = x[win.first + i];
    var less = 0u;
    var less_eq = 0u;
    for (var j = 0u; j < n; j++) {
      let xj = x[win.first + j];
      less += u32(xj < xi);
      less_eq += u32(xj <= xi);
    }
    let a = vec3<u32>(less);
    let b = vec3<u32>(less_eq);
    vlo = select(vlo, vec3<f32>(xi), (a <= lo) & (lo < b));
    vhi = select(vhi, vec3<f32>(xi), (a <= hi) & (hi < b));
  }
  put(0u, win.at, (vlo.x + vhi.x) * 0.5);
  put(1u, win.at, lerp_np(vlo.y, vhi.y, f32(last % 10u) * 0.1));
  put(2u, win.at, lerp_np(vlo.z, vhi.z, f32(9u * last % 10u) * 0.1));
}
