;; Gram matrix product for kernels/corr_matrix.ts: the upper triangle of Z^T Z over one panel of rows, f64x2 SIMD.
;; Built into kernels/corr_gram_wasm.ts by scripts/build_wasm.ts (the runtime needs no compiler).
;;
;; Memory, laid out by the caller (byte offsets, 16-byte aligned):
;;   panel: groups of 4 columns, each group `rows` rows of 4 f64 ([group][row][4]), padded columns and rows 0;
;;          `rows` is even (the caller pads one zero row) because the k loop takes two rows per step.
;;   gram:  groups x groups tiles of 4 x 4 f64 (row-major inside); a call adds this panel's sums into the
;;          tiles (gi, gj) with gi < giEnd <= groups and gj >= gi (giEnd < groups: the first tile rows only, the
;;          rest left to another thread).
;; Each 4 x 4 tile keeps its 16 sums in 8 f64x2 registers: per row, two loads of the gj group's 4 values and
;; four splat loads of the gi group's, 8 multiplies and 8 adds (no fused multiply-add: plain SIMD rounds the
;; same on every machine). For a fixed gi its group (rows x 32 bytes) stays in L1 while the gj groups stream.
(module
  (memory (export "memory") 1)
  (func (export "gram") (param $groups i32) (param $rows i32) (param $panel i32) (param $gram i32)
    (param $giEnd i32)
    (local $gi i32) (local $gj i32) (local $a i32) (local $b i32) (local $end i32) (local $t i32)
    (local $span i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $x0 v128) (local $x1 v128) (local $s v128)
    (if (i32.or (i32.ge_u (local.get $gi) (local.get $giEnd)) (i32.eqz (local.get $rows))) (then (return)))
    (local.set $span (i32.shl (local.get $rows) (i32.const 5)))
    (loop $rowTiles
      (local.set $gj (local.get $gi))
      (loop $colTiles
        (local.set $a (i32.add (local.get $panel) (i32.mul (local.get $gi) (local.get $span))))
        (local.set $b (i32.add (local.get $panel) (i32.mul (local.get $gj) (local.get $span))))
        (local.set $end (i32.add (local.get $a) (local.get $span)))
        (local.set $c00 (v128.const i64x2 0 0)) (local.set $c01 (v128.const i64x2 0 0))
        (local.set $c10 (v128.const i64x2 0 0)) (local.set $c11 (v128.const i64x2 0 0))
        (local.set $c20 (v128.const i64x2 0 0)) (local.set $c21 (v128.const i64x2 0 0))
        (local.set $c30 (v128.const i64x2 0 0)) (local.set $c31 (v128.const i64x2 0 0))
        (loop $k
          (local.set $x0 (v128.load offset=0 (local.get $b)))
          (local.set $x1 (v128.load offset=16 (local.get $b)))
          (local.set $s (v128.load64_splat offset=0 (local.get $a)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=8 (local.get $a)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=16 (local.get $a)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=24 (local.get $a)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $x0 (v128.load offset=32 (local.get $b)))
          (local.set $x1 (v128.load offset=48 (local.get $b)))
          (local.set $s (v128.load64_splat offset=32 (local.get $a)))
          (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=40 (local.get $a)))
          (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=48 (local.get $a)))
          (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $s (v128.load64_splat offset=56 (local.get $a)))
          (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $s) (local.get $x0))))
          (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $s) (local.get $x1))))
          (local.set $a (i32.add (local.get $a) (i32.const 64)))
          (local.set $b (i32.add (local.get $b) (i32.const 64)))
          (br_if $k (i32.lt_u (local.get $a) (local.get $end))))
        ;; tile (gi, gj) at gram + (gi * groups + gj) * 128: row i holds c_i0 (columns 0, 1) and c_i1 (2, 3)
        (local.set $t (i32.add (local.get $gram)
          (i32.shl (i32.add (i32.mul (local.get $gi) (local.get $groups)) (local.get $gj)) (i32.const 7))))
        (v128.store offset=0 (local.get $t) (f64x2.add (v128.load offset=0 (local.get $t)) (local.get $c00)))
        (v128.store offset=16 (local.get $t) (f64x2.add (v128.load offset=16 (local.get $t)) (local.get $c01)))
        (v128.store offset=32 (local.get $t) (f64x2.add (v128.load offset=32 (local.get $t)) (local.get $c10)))
        (v128.store offset=48 (local.get $t) (f64x2.add (v128.load offset=48 (local.get $t)) (local.get $c11)))
        (v128.store offset=64 (local.get $t) (f64x2.add (v128.load offset=64 (local.get $t)) (local.get $c20)))
        (v128.store offset=80 (local.get $t) (f64x2.add (v128.load offset=80 (local.get $t)) (local.get $c21)))
        (v128.store offset=96 (local.get $t) (f64x2.add (v128.load offset=96 (local.get $t)) (local.get $c30)))
        (v128.store offset=112 (local.get $t) (f64x2.add (v128.load offset=112 (local.get $t)) (local.get $c31)))
        (local.set $gj (i32.add (local.get $gj) (i32.const 1)))
        (br_if $colTiles (i32.lt_u (local.get $gj) (local.get $groups))))
      (local.set $gi (i32.add (local.get $gi) (i32.const 1)))
      (br_if $rowTiles (i32.lt_u (local.get $gi) (local.get $giEnd))))))
