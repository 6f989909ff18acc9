// Overlap-save FFT convolution (kernels/fft_convolve.ts): one Stockham radix-2 stage (sub-sequence length
// p) over every block pair, src -> dst, natural order in and out after all stages (no bit reversal).
// Butterfly i < N/2 of a pair: k = i mod p, inputs src[i], src[i + N/2], twiddle e^{-+πik/p} (host f64
// table e^{-2πim/N} at m = k·N/(2p), conjugated when sign = -1 for the inverse), outputs dst[j], dst[j + p]
// with j = 2i - k.

#include "fft_common.wgsl"

@group(0) @binding(0) var<storage, read> src: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> tw: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> P: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = gid.y * nwg.x * WG + gid.x;
  if (g >= P.count) { return; }
  let q = g >> P.log_half;
  let i = g & (P.half - 1u);
  let k = i & (P.p - 1u);
  let o = q * P.n;
  let u0 = src[o + i];
  let v = src[o + i + P.half];
  let t = tw[k << P.shift];
  let w = vec2<f32>(t.x, t.y * P.sign);
  let u1 = cmul(v, w);
  let j = o + 2u * i - k;
  dst[j] = u0 + u1;
  dst[j + P.p] = u0 - u1;
}
