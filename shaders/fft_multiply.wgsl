// Overlap-save FFT convolution (kernels/fft_convolve.ts): first inverse Stockham radix-2 stage (p = 1),
// fused with the product of a pair's spectrum and one filter's spectrum (host f64, scaled by 1/N, f32).

#include "fft_common.wgsl"

@group(0) @binding(0) var<storage, read> src: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> spec: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> P: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.y * nwg.x * WG + gid.x;
  if (g >= P.count) { return; }
  let q = g >> P.log_half;
  let i = g & (P.half - 1u);
  let o = q * P.n;
  let u0 = cmul(src[o + i], spec[i]);
  let u1 = cmul(src[o + i + P.half], spec[i + P.half]);
  dst[o + 2u * i] = u0 + u1;
  dst[o + 2u * i + 1u] = u0 - u1;
}
