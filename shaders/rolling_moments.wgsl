// Rolling mean / std / z-score over a trailing window of W points with O(1) work per point for any W.
// A segment is cut into blocks of W points. The window ending at t in block j is a suffix of block j-1
// plus a prefix of block j, so one invocation per block first walks block j-1 backwards storing its
// suffix states (count, mean, M2) in `scratch`, then walks block j forwards with a running prefix state
// and merges the two (Chan, Golub & LeVeque). Only Welford additions and merges, never differences of
// running sums, so f32 does not lose the variance to cancellation on long series.
// A window holding a NaN/Inf gives NaN; so does a point with fewer than W points of history.

#include "common.wgsl"
struct Params { window: u32, ddof: f32, plane: u32, total: u32 }

override MODE: u32 = 0u; // 0: mean, 1: std, 2: z-score
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> P: Params;

// Welford state: (mean, M2, bad flag, count).
fn add(s: vec4<f32>, v: f32) -> vec4<f32> {
  if (is_bad(v)) { return vec4<f32>(s.x, s.y, 1.0, s.w); }
  let n = s.w + 1.0;
  let d = v - s.x;
  let m = s.x + d / n;
  return vec4<f32>(m, s.y + d * (v - m), s.z, n);
}

fn merge(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let n = a.w + b.w;
  let d = b.x - a.x;
  return vec4<f32>(a.x + d * (b.w / n), a.y + b.y + d * d * (a.w * b.w / n), max(a.z, b.z), n);
}

fn finish(s: vec4<f32>, v: f32) -> f32 {
  if (s.z > 0.0) { return nan(); }
  if (MODE == 0u) { return s.x; }
  let sd = sqrt(max(s.y / (f32(P.window) - P.ddof), 0.0));
  if (MODE == 1u) { return sd; }
  if (sd > 0.0) { return (v - s.x) / sd; }
  return nan();
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let w = P.window;
  let nblocks = (seg.len + w - 1u) / w;
  for (var j = gid.x; j < nblocks; j += nwg.x * WG) {
    let start = seg.offset + j * w;
    if (j > 0u) {
      var suf = vec4<f32>(0.0);
      for (var k = w - 1u; k >= 1u; k--) {
        suf = add(suf, x[start - w + k]);
        scratch[start - w + k] = suf;
      }
    }
    var pre = vec4<f32>(0.0);
    let end = min(j * w + w, seg.len);
    for (var t = j * w; t < end; t++) {
      let v = x[seg.offset + t];
      pre = add(pre, v);
      var r = nan();
      if (t + 1u >= w) {
        var s = pre;
        if (t + 1u < j * w + w) { s = merge(scratch[seg.offset + t + 1u - w], pre); }
        r = finish(s, v);
      }
      out[P.plane * P.total + seg.offset + t] = r;
    }
  }
}
