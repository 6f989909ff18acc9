// Permutation entropy with tau = 1 and dimension D = 3, 4, 5, 6, 7 of a window (kernels/feature_permutation.ts).
// The subchunk of D values at position i has the ordinal pattern of numpy's stable argsort (ties ranked by
// position), keyed by its insertion code: element m follows the d_m = #{l < m : x_l <= x_m} earlier elements,
// and d_1..d_{D-1} determine the pattern. One pass stores each position's code, d_m in bits 3(m - 1)..3m - 1,
// so the pattern of dimension D is the low 3(D - 1) bits; a digit past the window's end is 7 (never a d_m),
// so a position without a whole subchunk of D matches no position with one. Then one double loop counts,
// for each position i, the positions j with the same pattern (j = i included) for every D at once, and
// H_D = -(1/k) sum_{i < k} log(c_i / k), k = w - D + 1, is taken from the product of the c_i / k (mantissa
// and exponent kept apart: no overflow; k rounding errors of eps / 2, which the 1/k divides out). Counts are
// u32 (exact); no per-pattern table.

#include "feature_window.wgsl"
const PLANES: u32 = 5u;

// Positions of one window (k = w - 2 <= 256: kernels/feature_permutation.ts' maxWindow).
const MAX_POS: u32 = 256u;

const LN2: f32 = 0.6931471805599453;

// Low bits of a code that hold the pattern of dimension 3, 4, 5, 6 (lanes) and 7.
const MASK_A = vec4<u32>(0x3fu, 0x1ffu, 0xfffu, 0x7fffu);
const MASK_7: u32 = 0x3ffffu;

// Positive f32s as m 2^e with m in [1, 2), one per lane.
struct Split { m: vec4<f32>, e: vec4<i32> }

// a times positive normals v, renormalised by moving the exponent bits out (exact).
fn times(a: Split, v: vec4<f32>) -> Split {
  let bits = bitcast<vec4<u32>>(a.m * v);
  let e = vec4<i32>(bits >> vec4<u32>(23u)) - vec4<i32>(127);
  return Split(bitcast<vec4<f32>>((bits & vec4<u32>(0x007fffffu)) | vec4<u32>(0x3f800000u)), a.e + e);
}

// Digit m of a code: d (<= m), or 7 where element m lies past the window.
fn digit(d: u32, past: bool, m: u32) -> u32 { return select(d, 7u, past) << (3u * (m - 1u)); }

// One well-formed window (called by the entry point in feature_window.wgsl).
fn features(seg: Seg, win: Win) {
  let n = win.w;
  let first = win.first;
  let last = first + n - 1u;
  // Positions with a subchunk of 3 (the others hold no pattern of any dimension).
  let k = select(0u, n - 2u, n >= 3u);
  var codes: array<u32, MAX_POS>;
  for (var i = 0u; i < k; i++) {
    let p = first + i;
    let v0 = x[p];
    let v1 = x[p + 1u];
    let v2 = x[p + 2u];
    let v3 = x[min(p + 3u, last)];
    let v4 = x[min(p + 4u, last)];
    let v5 = x[min(p + 5u, last)];
    let v6 = x[min(p + 6u, last)];
    let left = n - 1u - i; // elements after v0 in the window
    codes[i] = digit(u32(v0 <= v1), false, 1u) | digit(u32(v0 <= v2) + u32(v1 <= v2), false, 2u) |
      digit(u32(v0 <= v3) + u32(v1 <= v3) + u32(v2 <= v3), left < 3u, 3u) |
      digit(u32(v0 <= v4) + u32(v1 <= v4) + u32(v2 <= v4) + u32(v3 <= v4), left < 4u, 4u) |
      digit(u32(v0 <= v5) + u32(v1 <= v5) + u32(v2 <= v5) + u32(v3 <= v5) + u32(v4 <= v5), left < 5u, 5u) |
      digit(u32(v0 <= v6) + u32(v1 <= v6) + u32(v2 <= v6) + u32(v3 <= v6) + u32(v4 <= v6) + u32(v5 <= v6),
        left < 6u, 6u);
  }

  // k_D = n - D + 1 positions have a pattern of dimension D (0 where n < D).
  let ka = vec4<u32>(k, select(0u, n - 3u, n >= 4u), select(0u, n - 4u, n >= 5u), select(0u, n - 5u, n >= 6u));
  let k7 = select(0u, n - 6u, n >= 7u);
  let kfa = vec4<f32>(ka);
  let kf7 = f32(k7);
  var pa = Split(vec4<f32>(1.0), vec4<i32>(0));
  var p7 = Split(vec4<f32>(1.0), vec4<i32>(0)); // lane x only
  for (var i = 0u; i < k; i++) {
    let ci = codes[i];
    var ca = vec4<u32>(0u);
    var c7 = 0u;
    for (var j = 0u; j < k; j++) {
      let z = ci ^ codes[j];
      ca += select(vec4<u32>(0u), vec4<u32>(1u), (vec4<u32>(z) & MASK_A) == vec4<u32>(0u));
      c7 += u32((z & MASK_7) == 0u);
    }
    // Positions without a pattern of dimension D contribute a factor 1.
    pa = times(pa, select(vec4<f32>(1.0), vec4<f32>(ca) / kfa, vec4<u32>(i) < ka));
    p7 = times(p7, vec4<f32>(select(1.0, f32(c7) / kf7, i < k7)));
  }
  // -(1/k) log(prod c_i / k); NaN where no position has a pattern (tsfresh: no subchunk).
  let ha = -(log(pa.m) + vec4<f32>(pa.e) * LN2) / kfa;
  let h7 = -(log(p7.m.x) + f32(p7.e.x) * LN2) / kf7;
  let nn = nan();
  put(0u, win.at, select(nn, ha.x, ka.x > 0u));
  put(1u, win.at, select(nn, ha.y, ka.y > 0u));
  put(2u, win.at, select(nn, ha.z, ka.z > 0u));
  put(3u, win.at, select(nn, ha.w, ka.w > 0u));
  put(4u, win.at, select(nn, h7, k7 > 0u));
}
