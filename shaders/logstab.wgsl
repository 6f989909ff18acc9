// Variance stabilization y_t = log(x_t - m_t + shift), with m_t the running minimum of the finite points up
// to t, seeded by Seg.init (the minimum before the segment; the global minimum for the non-causal variant).
// Three passes, no workgroup barriers: block minima, a per-segment exclusive scan over them, then each block
// walks its points from its carried minimum. NaN where x_t is NaN/Inf.

#include "common.wgsl"
struct Params { shift: f32, total: u32 }

const WG: u32 = 64u;
const B: u32 = 256u;    // points per block
const BIG: f32 = 3.0e38; // "no minimum yet": min(BIG, v) = v for any finite v

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> segs: array<Seg>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> mins: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

// Block j of segment s owns mins[offset / B + s + j]: unique across segments (see logstab.ts).
fn slot(s: u32, j: u32) -> u32 { return segs[s].offset / B + s + j; }

@compute @workgroup_size(WG)
fn block_min(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let nb = (seg.len + B - 1u) / B;
  for (var j = gid.x; j < nb; j += nwg.x * WG) {
    var m = BIG;
    for (var t = j * B; t < min(j * B + B, seg.len); t++) {
      let v = x[seg.offset + t];
      if (!is_bad(v)) { m = min(m, v); }
    }
    mins[slot(gid.y, j)] = m;
  }
}

@compute @workgroup_size(WG)
fn scan(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= arrayLength(&segs)) { return; }
  let seg = segs[gid.x];
  var carry = seg.init;
  for (var j = 0u; j < (seg.len + B - 1u) / B; j++) {
    let i = slot(gid.x, j);
    let m = mins[i];
    mins[i] = carry;
    carry = min(carry, m);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let seg = segs[gid.y];
  let nb = (seg.len + B - 1u) / B;
  for (var j = gid.x; j < nb; j += nwg.x * WG) {
    var m = mins[slot(gid.y, j)];
    for (var t = j * B; t < min(j * B + B, seg.len); t++) {
      let v = x[seg.offset + t];
      var r = nan();
      if (!is_bad(v)) {
        m = min(m, v);
        r = log(v - m + P.shift);
      }
      out[seg.offset + t] = r;
    }
  }
}
