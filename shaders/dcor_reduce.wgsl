// Sums of 64 consecutive partials (the dcor_pairs.wgsl invocation sums of one workgroup): sums[r] =
// Σ partials[64 r .. 64 r + 63]. Jobs own whole multiples of 64 partials, so no sum mixes two jobs.

struct Params { count: u32 }

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  let lo = r * 64u;
  if (lo >= P.count) { return; }
  var s = 0.0;
  for (var k = lo; k < min(lo + 64u, P.count); k++) { s += partials[k]; }
  sums[r] = s;
}
