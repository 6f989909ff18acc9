// Permuted copies of one (y, row mean) series: copy q (at dst + q n) is replicate b0 + q of the series at
// src, built in place by Fisher-Yates (for k = n-1..1: swap k with draw(k) mod (k+1)), the draws a counter
// hash of (seed, b, k); or (`shift`, the circular_shift scheme) the series rotated by s = L + draw(0) mod
// (n - 2L + 1). kernels/dcor_core.ts `permutation` / `shiftPermutation` make the same permutations bit for bit.
// `copy` writes the unpermuted copies (one invocation per value); `main` runs the swaps for k in (k_lo, k_hi]
// (one invocation per copy): the host splits k into chunks of dispatches because llvmpipe ends any
// invocation after 65535 loop iterations in all.

struct Params {
  src: u32, n: u32, seed: u32, b0: u32, count: u32, dst: u32, k_hi: u32, k_lo: u32,
  block: u32, pad0: u32, pad1: u32, pad2: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> ys: array<vec2<f32>>;
@group(0) @binding(1) var<uniform> P: Params;

// Murmur3's 32-bit finalizer (generator/rng.ts mix32).
fn mix32(v: u32) -> u32 {
  var x = (v ^ (v >> 16u)) * 0x85ebca6bu;
  x = (x ^ (x >> 13u)) * 0xc2b2ae35u;
  return x ^ (x >> 16u);
}

// The counter hash base of replicate b (kernels/dcor_core.ts permBase).
fn perm_base(b: u32) -> u32 {
  return mix32(mix32(P.seed ^ 0x2545f491u) ^ (b + 0x9e3779b9u));
}

@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= P.count * P.n) { return; }
  ys[P.dst + e] = ys[P.src + e % P.n];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  if (q >= P.count) { return; }
  let dst = P.dst + q * P.n;
  let base = perm_base(P.b0 + q);
  for (var k = P.k_hi; k > P.k_lo; k--) {
    let j = mix32(base + k * 0x9e3779b9u) % (k + 1u);
    let t = ys[dst + k];
    ys[dst + k] = ys[dst + j];
    ys[dst + j] = t;
  }
}

// One invocation per value: copy q, element k is element (k + s_q) mod n of the series at src.
@compute @workgroup_size(WG)
fn shift(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= P.count * P.n) { return; }
  let q = e / P.n;
  let s = P.block + mix32(perm_base(P.b0 + q)) % (P.n - 2u * P.block + 1u);
  ys[P.dst + e] = ys[P.src + (e - q * P.n + s) % P.n];
}
