// Bindings, window lookup and entry point shared by the feature-set shaders (kernels/window_features.ts): one
// invocation per row t of a segment evaluates the window that ends at t and writes one value per output
// plane. Each shader defines `const PLANES: u32` and `fn features(seg: Seg, win: Win)` (module-scope
// declarations may follow their use in WGSL).

#include "common.wgsl"
struct Params { window: u32, plane: u32, total: u32, pad: u32 }

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> lens: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

// The window ending at packed row `at`: rows [first, first + w). `ok` is false where no window ends there,
// where it would start before the segment, or where it holds a NaN/Inf.
struct Win { first: u32, w: u32, at: u32, ok: bool }

fn window_at(seg: Seg, t: u32) -> Win {
  var w = P.window;
  if (w == 0u) { w = u32(lens[seg.offset + t]); }
  let at = seg.offset + t;
  if (w == 0u || t + 1u < w) { return Win(at, w, at, false); }
  let first = at + 1u - w;
  for (var i = 0u; i < w; i++) {
    if (is_bad(x[first + i])) { return Win(first, w, at, false); }
  }
  return Win(first, w, at, true);
}

// Writes plane p of this shader at packed row `at`.
fn put(p: u32, at: u32, v: f32) { out[(P.plane + p) * P.total + at] = v; }

// Writes the lanes of v to planes p, p + 1, p + 2 (a feature computed for three parameters at once).
fn put3(p: u32, at: u32, v: vec3<f32>) {
  put(p, at, v.x);
  put(p + 1u, at, v.y);
  put(p + 2u, at, v.z);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seg = segs[gid.y];
  let t = gid.x;
  if (t >= seg.len) { return; }
  let win = window_at(seg, t);
  if (win.ok) {
    features(seg, win);
  } else {
    for (var p = 0u; p < PLANES; p++) { put(p, win.at, nan()); }
  }
}
