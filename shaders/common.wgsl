// Helpers shared by the kernels (included with `#include "common.wgsl"`).

// One packed piece of a column (runtime/segments.ts): points [offset, offset + len) of the input buffers;
// `init` is a per-segment value (e.g. a carried running minimum), `col` the column index.
struct Seg { offset: u32, len: u32, init: f32, col: u32 }

// NaN or ±Inf, tested on the bits: WGSL compilers may assume floats are finite and fold `v != v`.
fn is_bad(v: f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u; }

// Built at run time: Chrome (Tint) rejects a constant expression whose value is NaN.
fn nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
