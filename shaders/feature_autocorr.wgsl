// Autocorrelation at lags 1..10 and partial autocorrelation at lags 1..5 of a window
// (kernels/feature_autocorr.ts for the planes and definitions): one pass for the mean, the lagged sums of
// products about it for lags 0..10, then Levinson-Durbin on the adjusted autocovariance. Both features are
// shift-invariant, so the shader works on x - x_0 as given.

#include "feature_window.wgsl"
const LAGS: u32 = 10u;
const PACF_LAGS: u32 = 5u;
const PLANES: u32 = 15u;

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let nf = f32(n);
  // Deviations from the first value are exact for nearby values (Sterbenz) and of the window's scale, so
  // the f32 mean of them is accurate to the window's spread, not to |x - x_0|.
  let pivot = x[win.first];
  var sum = 0.0;
  var lo = pivot;
  var hi = pivot;
  for (var i = 0u; i < n; i++) {
    let v = x[win.first + i];
    sum += v - pivot;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  // Mean of x - pivot (a constant window centres to exact zeros).
  let mean = sum / nf;
  let flat = lo == hi;
  // s[k] = sum_{i < n - k} (x_i - m)(x_{i+k} - m), m the window mean; lags >= n stay unset (NaN outputs).
  var s: array<f32, 11>;
  let kmax = min(LAGS, n - 1u);
  for (var k = 0u; k <= kmax; k++) {
    // Summed in blocks of 64, so the rounding error grows like (64 + n / 64) eps rather than n eps: it
    // matters for long windows of random walks, where pacf divides by a residual variance near 0.
    var a = 0.0;
    var blk = 0.0;
    for (var i = 0u; i + k < n; i++) {
      blk += (x[win.first + i] - pivot - mean) * (x[win.first + i + k] - pivot - mean);
      if ((i & 63u) == 63u) {
        a += blk;
        blk = 0.0;
      }
    }
    s[k] = a + blk;
  }
  // tsfresh: NaN where lag >= n or where the variance is within 1e-8 of 0.
  let v = s[0] / nf;
  let acf_ok = !flat && v > 1e-8;
  for (var k = 1u; k <= LAGS; k++) {
    put(k - 1u, win.at, select(nan(), s[k] / ((nf - f32(k)) * v), acf_ok && k < n));
  }
  // statsmodels' pacf (method "ld") up to tsfresh's cap: lag 5, or n / 2 - 1 when 5 >= n / 2.
  let half = n / 2u;
  var maxlag = PACF_LAGS;
  if (PACF_LAGS >= half) { maxlag = select(0u, half - 1u, half >= 1u); }
  var pacf: array<f32, 6>;
  for (var k = 1u; k <= PACF_LAGS; k++) { pacf[k] = nan(); }
  if (maxlag >= 1u && !flat) {
    var acov: array<f32, 6>;
    for (var k = 0u; k <= maxlag; k++) { acov[k] = s[k] / f32(n - k); }
    // phi[j]: the order k - 1 coefficients; nxt: order k.
    var phi: array<f32, 6>;
    var nxt: array<f32, 6>;
    phi[1] = acov[1] / acov[0];
    var sig = acov[0] - phi[1] * acov[1];
    pacf[1] = phi[1];
    for (var k = 2u; k <= maxlag; k++) {
      var dot = 0.0;
      for (var j = 1u; j < k; j++) { dot += phi[j] * acov[k - j]; }
      let pkk = (acov[k] - dot) / sig;
      nxt[k] = pkk;
      for (var j = 1u; j < k; j++) { nxt[j] = phi[j] - pkk * phi[k - j]; }
      sig = sig * (1.0 - pkk * pkk);
      pacf[k] = pkk;
      phi = nxt;
    }
  }
  for (var k = 1u; k <= PACF_LAGS; k++) { put(LAGS + k - 1u, win.at, pacf[k]); }
}
