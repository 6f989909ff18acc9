// Overlap-save FFT convolution (kernels/fft_convolve.ts), first forward Stockham radix-2 stage (p = 1),
// fused with the load: block pair q packs block 2q (real part) and block 2q+1 (imaginary part); element e
// of a block starting at output t0 is input t0 + e - lead of its segment minus the block's anchor, zero
// outside the segment and where the input is NaN/Inf. One invocation per butterfly: (pair, i) for i < N/2.

#include "fft_common.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> blocks: array<Block>;
@group(0) @binding(3) var<uniform> P: Params;

// Input minus the block's anchor; padding and NaN/Inf count as the anchor (they only reach NaN outputs).
fn load(b: Block, e: u32) -> f32 {
  if (b.t0 + e < P.lead) { return 0.0; }
  let idx = b.t0 + e - P.lead;
  if (idx >= b.len) { return 0.0; }
  let v = x[b.offset + idx];
  return select(v - b.anchor, 0.0, is_bad(v));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.y * nwg.x * WG + gid.x;
  if (g >= P.count) { return; }
  let q = g >> P.log_half;
  let i = g & (P.half - 1u);
  let ba = blocks[2u * (P.base + q)];
  let bb = blocks[2u * (P.base + q) + 1u];
  let u0 = vec2<f32>(load(ba, i), load(bb, i));
  let u1 = vec2<f32>(load(ba, i + P.half), load(bb, i + P.half));
  let o = q * P.n + 2u * i;
  dst[o] = u0 + u1;
  dst[o + 1u] = u0 - u1;
}
