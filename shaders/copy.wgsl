// Bandwidth probe for the bench (bench/copy.ts): dst[i] = src[i], one vec4<f32> load and store per
// invocation. The grid may be folded into 2D (runtime/gpu.ts `grid`) when more than
// maxComputeWorkgroupsPerDimension workgroups are needed: the flat index is x + y * (groups in x) * WG.

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < arrayLength(&dst)) {
    dst[i] = src[i];
  }
}
