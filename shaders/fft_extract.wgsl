// Overlap-save FFT convolution (kernels/fft_convolve.ts): last inverse Stockham radix-2 stage (p = N/2,
// so k = i and outputs land at i and i + N/2), fused with the extraction: element e >= lead of the
// result is output t0 + e - lead of block 2q (real part) and of block 2q+1 (imaginary part), written to
// out[plane * total + offset + t] (plus anchor·sum(w)) when inside the segment. NaN marking is done on the host.

#include "fft_common.wgsl"

@group(0) @binding(0) var<storage, read> src: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> blocks: array<Block>;
@group(0) @binding(3) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(4) var<uniform> P: Params;

fn put(ba: Block, bb: Block, e: u32, c: vec2<f32>) {
  if (e < P.lead) { return; }
  let r = e - P.lead;
  if (ba.t0 + r < ba.len) { out[P.plane * P.total + ba.offset + ba.t0 + r] = c.x + ba.anchor * P.sumw; }
  if (bb.t0 + r < bb.len) { out[P.plane * P.total + bb.offset + bb.t0 + r] = c.y + bb.anchor * P.sumw; }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.y * nwg.x * WG + gid.x;
  if (g >= P.count) { return; }
  let q = g >> P.log_half;
  let i = g & (P.half - 1u);
  let o = q * P.n;
  let u0 = src[o + i];
  let v = src[o + i + P.half];
  let t = tw[i];
  let w = vec2<f32>(t.x, t.y * P.sign);
  let u1 = cmul(v, w);
  let ba = blocks[2u * (P.base + q)];
  let bb = blocks[2u * (P.base + q) + 1u];
  put(ba, bb, i, u0 + u1);
  put(ba, bb, i + P.half, u0 - u1);
}
