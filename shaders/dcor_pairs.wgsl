// Exact V-statistic distance covariance sums for many jobs (a job = one (x, y) pair, y possibly permuted):
// G = Σ_ij A_ij B_ij with A_ij = |x_i - x_j| - ā_i. - ā_j. + ā.. formed on the fly (no n x n matrix).
// xs/ys hold (value, row mean) per point, computed on the host (kernels/dcor_gpu.ts). Each unordered pair
// {i, j} is visited once: row i takes the circular offsets d = 1..(n-1)/2 (and d = n/2 for i < n/2 when n is
// even), split into tiles of TJ offsets; a work item is (row, tile), and a job covers rows [r0, r0 + rows).
// Invocation k of a job sums items k, k + ninv, ... (tile sums added to the invocation sum) and writes one
// partial; dcor_reduce.wgsl and the host add the partials. The host gives every invocation at most 64 items
// (<= 64 x 257 loop iterations): llvmpipe ends any invocation after 65535 loop iterations in all.

struct Job {
  xoff: u32, yoff: u32, n: u32, tiles: u32, poff: u32, ninv: u32, r0: u32, rows: u32,
  gx: f32, gy: f32, pad0: u32, pad1: u32,
}

const WG: u32 = 64u;
const TJ: u32 = 256u;

@group(0) @binding(0) var<storage, read> xs: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> ys: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> jobs: array<Job>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

// Σ_{j in [lo, hi)} A_ij B_ij for row i (xi, yi its values; cx = ā.. - ā_i., cy likewise).
fn span(xo: u32, yo: u32, lo: u32, hi: u32, xi: f32, yi: f32, cx: f32, cy: f32) -> f32 {
  var s = 0.0;
  for (var j = lo; j < hi; j++) {
    let u = xs[xo + j];
    let v = ys[yo + j];
    s = fma(abs(xi - u.x) + (cx - u.y), abs(yi - v.x) + (cy - v.y), s);
  }
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let job = jobs[gid.y];
  if (gid.x >= job.ninv) { return; }
  let n = job.n;
  let hh = (n - 1u) / 2u;
  let items = job.rows * job.tiles;
  var acc = 0.0;
  for (var k = gid.x; k < items; k += job.ninv) {
    let r = k / job.tiles;
    let t = k - r * job.tiles;
    let i = job.r0 + r;
    let p = xs[job.xoff + i];
    let q = ys[job.yoff + i];
    let cx = job.gx - p.y;
    let cy = job.gy - q.y;
    let d0 = 1u + t * TJ;
    let d1 = min(d0 + TJ, hh + 1u);
    var s = 0.0;
    if (d0 < d1) {
      let lo = i + d0;
      let hi = i + d1;
      s = span(job.xoff, job.yoff, min(lo, n), min(hi, n), p.x, q.x, cx, cy);
      if (hi > n) { s += span(job.xoff, job.yoff, max(lo, n) - n, hi - n, p.x, q.x, cx, cy); }
    }
    if (t + 1u == job.tiles && (n & 1u) == 0u && i < n / 2u) {
      let u = xs[job.xoff + i + n / 2u];
      let v = ys[job.yoff + i + n / 2u];
      s = fma(abs(p.x - u.x) + (cx - u.y), abs(q.x - v.x) + (cy - v.y), s);
    }
    var add = 2.0 * s;
    // The diagonal (a_ii = 0): A_ii = ā.. - 2 ā_i., once per row.
    if (t == 0u) { add += (cx - p.y) * (cy - q.y); }
    acc += add;
  }
  partials[job.poff + gid.x] = acc;
}
