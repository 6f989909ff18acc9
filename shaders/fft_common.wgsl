// Declarations shared by the FFT convolution stages (kernels/fft_convolve.ts).
#include "common.wgsl"

// One block of an overlap-save pair: segment `offset`/`len`, first output `t0`, causal anchor subtracted.
struct Block { offset: u32, len: u32, t0: u32, anchor: f32 }
// One uniform layout for every stage (fields a stage does not use are ignored).
struct Params {
  n: u32, half: u32, p: u32, shift: u32, log_half: u32, count: u32, base: u32, sign: f32,
  total: u32, plane: u32, lead: u32, sumw: f32,
}

const WG: u32 = 64u;

fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}
