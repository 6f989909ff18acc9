// Rolling minimum and maximum over a trailing window of W points with O(1) work per point for any W
// (van Herk / Gil-Werman): a segment is cut into blocks of W points; the window ending at t in block j is a
// suffix of block j-1 plus a prefix of block j, so one invocation per block walks block j-1 backwards
// storing suffix (min, max, bad) in `scratch`, then walks block j forwards with a running prefix state and
// combines the two. Output plane P.plane holds the minimum, plane P.plane + 1 the maximum.
// A window holding a NaN/Inf gives NaN; so does a point with fewer than W points of history.

#include "common.wgsl"
struct Params { window: u32, plane: u32, total: u32, pad: u32 }

const WG: u32 = 64u;
const BIG: f32 = 3.4e38;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> P: Params;

// State: (min, max, bad flag, unused).
fn add(s: vec4<f32>, v: f32) -> vec4<f32> {
  if (is_bad(v)) { return vec4<f32>(s.x, s.y, 1.0, 0.0); }
  return vec4<f32>(min(s.x, v), max(s.y, v), s.z, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let w = P.window;
  let nblocks = (seg.len + w - 1u) / w;
  let empty = vec4<f32>(BIG, -BIG, 0.0, 0.0);
  for (var j = gid.x; j < nblocks; j += nwg.x * WG) {
    let start = seg.offset + j * w;
    if (j > 0u) {
      var suf = empty;
      for (var k = w - 1u; k >= 1u; k--) {
        suf = add(suf, x[start - w + k]);
        scratch[start - w + k] = suf;
      }
    }
    var pre = empty;
    let end = min(j * w + w, seg.len);
    for (var t = j * w; t < end; t++) {
      pre = add(pre, x[seg.offset + t]);
      var lo = nan();
      var hi = nan();
      if (t + 1u >= w) {
        var s = pre;
        if (t + 1u < j * w + w) {
          let a = scratch[seg.offset + t + 1u - w];
          s = vec4<f32>(min(a.x, pre.x), max(a.y, pre.y), max(a.z, pre.z), 0.0);
        }
        if (s.z == 0.0) {
          lo = s.x;
          hi = s.y;
        }
      }
      out[P.plane * P.total + seg.offset + t] = lo;
      out[(P.plane + 1u) * P.total + seg.offset + t] = hi;
    }
  }
}
