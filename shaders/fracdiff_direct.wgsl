// Fixed-width-window fractional differentiation by direct convolution: y_t = sum_{k<W} w_k x_{t-k},
// for several weight vectors (d values) at once: dispatch z selects the weight vector.
// Each invocation computes OUT consecutive outputs so every weight load is reused OUT times.
// NaN where t < W - 1 in the segment or a NaN/Inf lies in the window.

#include "common.wgsl"
struct Params { total: u32, nweights: u32 }
struct Filter { offset: u32, len: u32 }

const WG: u32 = 64u;
const OUT: u32 = 4u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> filters: array<Filter>;
@group(0) @binding(5) var<uniform> P: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let f = filters[gid.z];
  let ngroups = (seg.len + OUT - 1u) / OUT;
  for (var g = gid.x; g < ngroups; g += nwg.x * WG) {
    let t0 = g * OUT;
    var acc = array<f32, OUT>();
    var bad = array<bool, OUT>();
    if (t0 + OUT >= f.len) {
      for (var k = 0u; k < f.len; k++) {
        let wk = weights[f.offset + k];
        for (var i = 0u; i < OUT; i++) {
          let t = t0 + i;
          if (t >= k) {
            let v = x[seg.offset + t - k];
            bad[i] = bad[i] || is_bad(v);
            acc[i] += wk * v;
          }
        }
      }
    }
    for (var i = 0u; i < OUT; i++) {
      let t = t0 + i;
      if (t < seg.len) {
        var r = nan();
        if (t + 1u >= f.len && !bad[i]) { r = acc[i]; }
        out[gid.z * P.total + seg.offset + t] = r;
      }
    }
  }
}
