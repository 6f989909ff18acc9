// Gram matrix of standardized columns, C = Z^T Z (kernels/corr_matrix.ts divides by n - 1 on the host): a
// tiled matmul with split-K. A workgroup of 16 x 16 = 256 invocations computes one 64 x 64 output tile, each
// invocation a 4 x 4 block of it (rows ly + 16a, columns lx + 16b: register blocking, 16 multiply-adds per
// 8 workgroup-memory reads), from 16-row slabs of Z staged in workgroup memory. Workgroup (tj, ti, k) sums rows
// [k * KCHUNK, (k + 1) * KCHUNK) of the batch into partial tile k, which the host adds in f64. Only tiles on or
// above the diagonal are computed (C is symmetric). Each invocation loops over about KCHUNK + KCHUNK / 16
// iterations, inside the software adapter's per-invocation loop budget.
//
// z is column-major: column c of the batch is z[c * rows .. (c + 1) * rows). Output: out[k][i][j], p x p.

struct Params { rows: u32, cols: u32, kchunk: u32, pad: u32 }

const T: u32 = 64u;  // output tile edge
const S: u32 = 16u;  // rows per slab

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> P: Params;

// A[r][c]: slab row r of tile column c (columns i0 + c); B likewise for columns j0 + c.
var<workgroup> A: array<array<f32, 64>, 16>;
var<workgroup> B: array<array<f32, 64>, 16>;

fn load(col: u32, r: u32, k1: u32) -> f32 {
  if (r < k1 && col < P.cols) { return z[col * P.rows + r]; }
  return 0.0;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  if (wid.y > wid.x) { return; } // below the diagonal: uniform per workgroup
  let i0 = wid.y * T;
  let j0 = wid.x * T;
  let k0 = wid.z * P.kchunk;
  let k1 = min(P.rows, k0 + P.kchunk);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // Invocation li stages slab row li % 16 of tile columns li / 16 + 16 t, t = 0..3 (consecutive invocations
  // read consecutive rows of a column).
  let lr = li % S;
  let lc = li / S;
  for (var kb = k0; kb < k1; kb += S) {
    let r = kb + lr;
    A[lr][lc] = load(i0 + lc, r, k1);
    A[lr][lc + 16u] = load(i0 + lc + 16u, r, k1);
    A[lr][lc + 32u] = load(i0 + lc + 32u, r, k1);
    A[lr][lc + 48u] = load(i0 + lc + 48u, r, k1);
    B[lr][lc] = load(j0 + lc, r, k1);
    B[lr][lc + 16u] = load(j0 + lc + 16u, r, k1);
    B[lr][lc + 32u] = load(j0 + lc + 32u, r, k1);
    B[lr][lc + 48u] = load(j0 + lc + 48u, r, k1);
    workgroupBarrier();
    for (var k = 0u; k < S; k++) {
      let b = vec4<f32>(B[k][lid.x], B[k][lid.x + 16u], B[k][lid.x + 32u], B[k][lid.x + 48u]);
      acc0 += A[k][lid.y] * b;
      acc1 += A[k][lid.y + 16u] * b;
      acc2 += A[k][lid.y + 32u] * b;
      acc3 += A[k][lid.y + 48u] * b;
    }
    workgroupBarrier();
  }
  let base = wid.z * P.cols;
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var a = 0u; a < 4u; a++) {
    let i = i0 + lid.y + 16u * a;
    for (var b = 0u; b < 4u; b++) {
      let j = j0 + lid.x + 16u * b;
      if (i < P.cols && j < P.cols) { out[(base + i) * P.cols + j] = acc[a][b]; }
    }
  }
}
