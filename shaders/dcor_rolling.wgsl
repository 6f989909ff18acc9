// Rolling distance correlation (V-statistic) of x and y over a trailing window of W <= MAXW points, one
// invocation per output point (O(W²) each). Inputs are (hi, lo) f32 pairs relative to the column's first
// finite value; the window is re-expressed relative to its own first point ((hi_i - hi_0) + (lo_i - lo_0)),
// so f32 keeps the window's own scale. Pass 1: row means of |x_i - x_j| and |y_i - y_j|; the window is then
// rescaled by its grand means (dCor is scale-invariant; this avoids f32 under/overflow); pass 2: Σ A B,
// Σ A², Σ B² over all (i, j) (the diagonal has a_ii = 0), row sums added to the totals.
// The window is held in blocks of 4 (vec4) so each pass costs ~W²/4 loop iterations: llvmpipe ends any
// invocation after 65535 loop iterations in all (~W²/2 + 2W here, 33k for W = 256).
// NaN where t < W - 1 or the window holds a NaN/Inf; 0 for a constant window (energy's convention).

#include "common.wgsl"
struct Params { window: u32, total: u32 }

const WG: u32 = 64u;
const MAXB: u32 = 64u; // MAXW / 4

@group(0) @binding(0) var<storage, read> xh: array<f32>;
@group(0) @binding(1) var<storage, read> xl: array<f32>;
@group(0) @binding(2) var<storage, read> yh: array<f32>;
@group(0) @binding(3) var<storage, read> yl: array<f32>;
@group(0) @binding(4) var<storage, read> segs: array<Seg>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> P: Params;

var<private> xv: array<vec4<f32>, MAXB>;
var<private> yv: array<vec4<f32>, MAXB>;
var<private> mx: array<vec4<f32>, MAXB>;
var<private> my: array<vec4<f32>, MAXB>;

// 1 for the block's points inside the window, 0 for the padding of the last block.
fn block_mask(b: u32, w: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(4u * b) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(w));
}

fn window_dcor(base: u32, w: u32) -> f32 {
  let nb = (w + 3u) / 4u;
  let h0 = vec2<f32>(xh[base], yh[base]);
  let l0 = vec2<f32>(xl[base], yl[base]);
  for (var b = 0u; b < nb; b++) {
    var px = vec4<f32>(0.0);
    var py = vec4<f32>(0.0);
    for (var k = 0u; k < 4u; k++) {
      let i = 4u * b + k;
      if (i < w) {
        let h = vec2<f32>(xh[base + i], yh[base + i]);
        if (is_bad(h.x) || is_bad(h.y)) { return nan(); }
        let v = (h - h0) + (vec2<f32>(xl[base + i], yl[base + i]) - l0);
        px[k] = v.x;
        py[k] = v.y;
      }
    }
    xv[b] = px;
    yv[b] = py;
  }
  let fw = f32(w);
  let last = nb - 1u;
  let lmask = block_mask(last, w);
  var g = vec2<f32>(0.0);
  for (var i = 0u; i < w; i++) {
    let xi = xv[i / 4u][i % 4u];
    let yi = yv[i / 4u][i % 4u];
    var rx = abs(xv[last] - xi) * lmask;
    var ry = abs(yv[last] - yi) * lmask;
    for (var b = 0u; b < last; b++) {
      rx += abs(xv[b] - xi);
      ry += abs(yv[b] - yi);
    }
    let r = vec2<f32>(dot(rx, vec4<f32>(1.0)), dot(ry, vec4<f32>(1.0)));
    mx[i / 4u][i % 4u] = r.x / fw;
    my[i / 4u][i % 4u] = r.y / fw;
    g += r;
  }
  g /= fw * fw;
  if (g.x <= 0.0 || g.y <= 0.0) { return 0.0; }
  let sc = 1.0 / g;
  for (var b = 0u; b < nb; b++) {
    xv[b] *= sc.x;
    mx[b] *= sc.x;
    yv[b] *= sc.y;
    my[b] *= sc.y;
  }
  var sab = 0.0;
  var saa = 0.0;
  var sbb = 0.0;
  for (var i = 0u; i < w; i++) {
    let xi = xv[i / 4u][i % 4u];
    let yi = yv[i / 4u][i % 4u];
    let cx = 1.0 - mx[i / 4u][i % 4u];
    let cy = 1.0 - my[i / 4u][i % 4u];
    let ax = (abs(xv[last] - xi) + (cx - mx[last])) * lmask;
    let ay = (abs(yv[last] - yi) + (cy - my[last])) * lmask;
    var rab = ax * ay;
    var raa = ax * ax;
    var rbb = ay * ay;
    for (var b = 0u; b < last; b++) {
      let a = abs(xv[b] - xi) + (cx - mx[b]);
      let c = abs(yv[b] - yi) + (cy - my[b]);
      rab = fma(a, c, rab);
      raa = fma(a, a, raa);
      rbb = fma(c, c, rbb);
    }
    sab += dot(rab, vec4<f32>(1.0));
    saa += dot(raa, vec4<f32>(1.0));
    sbb += dot(rbb, vec4<f32>(1.0));
  }
  if (saa <= 0.0 || sbb <= 0.0) { return 0.0; }
  return sqrt(clamp(sab / (sqrt(saa) * sqrt(sbb)), 0.0, 1.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  // One output point per invocation (the host keeps segments within 65535 x 64 points).
  let seg = segs[gid.y];
  let t = gid.x;
  if (t >= seg.len) { return; }
  let w = P.window;
  var r = nan();
  if (t + 1u >= w) { r = window_dcor(seg.offset + t + 1u - w, w); }
  out[seg.offset + t] = r;
}
