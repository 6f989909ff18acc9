// The O(n L) part of the ADF normal equations (bench/adf.ts measures it against the f64 host path): for series
// s and lag k in 0..L, sum_i d_i d_{i-k} and sum_i v_i d_{i-k} over i = L..len-1, with d the first differences
// and v the (host-centred) level. One workgroup per (k, s): strided f32 partial sums, then a tree reduction.

struct Params { len: u32, lags: u32, nseries: u32, pad: u32 }

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> dx: array<f32>;
@group(0) @binding(1) var<storage, read> level: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

var<workgroup> sa: array<f32, WG>;
var<workgroup> sb: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let k = wid.x;
  let s = wid.y;
  let base = s * P.len;
  var a = 0.0;
  var b = 0.0;
  for (var i = P.lags + lid.x; i < P.len; i += WG) {
    let d = dx[base + i - k];
    a += dx[base + i] * d;
    b += level[base + i] * d;
  }
  sa[lid.x] = a;
  sb[lid.x] = b;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (lid.x < w) {
      sa[lid.x] += sa[lid.x + w];
      sb[lid.x] += sb[lid.x + w];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let o = (s * (P.lags + 1u) + k) * 2u;
    out[o] = sa[0];
    out[o + 1u] = sb[0];
  }
}
