// Rolling Pearson correlation of x and y over a trailing window of W points, O(1) work per point for any W.
// Same block decomposition as rolling_moments.wgsl: the window ending at t in block j is a suffix of block
// j-1 (states stored backwards in `scratch`) merged with a running prefix of block j. The co-moment state
// is (mean_x, mean_y, M2_x, M2_y) + (C_xy, count, bad), updated by Welford steps and Chan merges only.
// NaN where t < W - 1, where the window holds a NaN/Inf in either series, or where a variance is 0.

#include "common.wgsl"
struct Params { window: u32, total: u32 }
struct S { a: vec4<f32>, b: vec4<f32> } // a = (mx, my, Mxx, Myy), b = (Cxy, n, bad, 0)

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> segs: array<Seg>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<S>;
@group(0) @binding(5) var<uniform> P: Params;

fn add(s: S, u: f32, v: f32) -> S {
  if (is_bad(u) || is_bad(v)) { return S(s.a, vec4<f32>(s.b.x, s.b.y, 1.0, 0.0)); }
  let n = s.b.y + 1.0;
  let du = u - s.a.x;
  let dv = v - s.a.y;
  let mx = s.a.x + du / n;
  let my = s.a.y + dv / n;
  return S(vec4<f32>(mx, my, s.a.z + du * (u - mx), s.a.w + dv * (v - my)), vec4<f32>(s.b.x + du * (v - my), n, s.b.z, 0.0));
}

fn merge(p: S, q: S) -> S {
  let n = p.b.y + q.b.y;
  let dx = q.a.x - p.a.x;
  let dy = q.a.y - p.a.y;
  let f = p.b.y * q.b.y / n;
  let r = q.b.y / n;
  return S(
    vec4<f32>(p.a.x + dx * r, p.a.y + dy * r, p.a.z + q.a.z + dx * dx * f, p.a.w + q.a.w + dy * dy * f),
    vec4<f32>(p.b.x + q.b.x + dx * dy * f, n, max(p.b.z, q.b.z), 0.0),
  );
}

fn finish(s: S) -> f32 {
  if (s.b.z > 0.0 || s.a.z <= 0.0 || s.a.w <= 0.0) { return nan(); }
  return clamp(s.b.x / sqrt(s.a.z * s.a.w), -1.0, 1.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let w = P.window;
  let nblocks = (seg.len + w - 1u) / w;
  let zero = S(vec4<f32>(0.0), vec4<f32>(0.0));
  for (var j = gid.x; j < nblocks; j += nwg.x * WG) {
    let start = seg.offset + j * w;
    if (j > 0u) {
      var suf = zero;
      for (var k = w - 1u; k >= 1u; k--) {
        suf = add(suf, x[start - w + k], y[start - w + k]);
        scratch[start - w + k] = suf;
      }
    }
    var pre = zero;
    let end = min(j * w + w, seg.len);
    for (var t = j * w; t < end; t++) {
      pre = add(pre, x[seg.offset + t], y[seg.offset + t]);
      var r = nan();
      if (t + 1u >= w) {
        var s = pre;
        if (t + 1u < j * w + w) { s = merge(scratch[seg.offset + t + 1u - w], pre); }
        r = finish(s);
      }
      out[seg.offset + t] = r;
    }
  }
}
