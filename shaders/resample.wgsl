// Segmented reductions for bar resampling (kernels/resample.ts). The rows of a chunk are cut into pieces of at
// most 64 rows, each inside one output bar; one invocation reduces one piece for one job. The host merges the
// pieces of a bar in f64 (kernels/resample.ts: mergePieces), so no loop here runs more than 64 iterations.
//
// Jobs (op):  0 first finite row, 1 last finite row, 2 argmax, 3 argmin  -> a row index (NONE when no finite
//             value), so open/high/low/close are read back from the f64 input on the host;
//             4 sum of finite values, 5 sum of x * w over rows where both are finite, 6 sum of w over those
//             rows (the VWAP numerator and denominator)                  -> an f32 sum, as bits.
// Output: out[job * nPieces + piece].

#include "common.wgsl"
struct Job { plane: u32, plane2: u32, op: u32, pad: u32 }
struct Params { rows: u32, pieces: u32, stride: u32, pad: u32 }

const WG: u32 = 64u;
const NONE: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> x: array<f32>;        // planes x rows, plane-major
@group(0) @binding(1) var<storage, read> bounds: array<u32>;   // pieces + 1 row offsets
@group(0) @binding(2) var<storage, read> jobs: array<Job>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> P: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let piece = gid.x + gid.y * P.stride;
  if (piece >= P.pieces) { return; }
  let job = jobs[gid.z];
  let a = bounds[piece];
  let b = bounds[piece + 1u];
  let base = job.plane * P.rows;
  var idx = NONE;
  var s = 0.0;
  switch job.op {
    case 0u: {
      for (var r = a; r < b; r++) {
        if (!is_bad(x[base + r])) { idx = r; break; }
      }
    }
    case 1u: {
      for (var r = b; r > a; r--) {
        if (!is_bad(x[base + r - 1u])) { idx = r - 1u; break; }
      }
    }
    case 2u: {
      var best = 0.0;
      for (var r = a; r < b; r++) {
        let v = x[base + r];
        if (!is_bad(v) && (idx == NONE || v > best)) { idx = r; best = v; }
      }
    }
    case 3u: {
      var best = 0.0;
      for (var r = a; r < b; r++) {
        let v = x[base + r];
        if (!is_bad(v) && (idx == NONE || v < best)) { idx = r; best = v; }
      }
    }
    case 4u: {
      for (var r = a; r < b; r++) {
        let v = x[base + r];
        if (!is_bad(v)) { s += v; }
      }
    }
    default: {
      let wbase = job.plane2 * P.rows;
      for (var r = a; r < b; r++) {
        let v = x[base + r];
        let w = x[wbase + r];
        if (!is_bad(v) && !is_bad(w)) { s += select(w, v * w, job.op == 5u); }
      }
    }
  }
  out[gid.z * P.pieces + piece] = select(bitcast<u32>(s), idx, job.op < 4u);
}
