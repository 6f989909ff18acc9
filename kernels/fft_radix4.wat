;; The CPU path's FFT for kernels/fft_convolve.ts (`ScrambledFft`), f64x2 SIMD: radix-4 decimation in frequency
;; from natural order to a scrambled (digit-reversed) order, its exact reverse back, and the spectrum product.
;; Built into kernels/fft_radix4_wasm.ts by scripts/build_wasm.ts (the runtime needs no compiler).
;;
;; Memory, laid out by the caller (byte addresses, 16-byte aligned):
;;   twiddles: per radix-4 stage (quarter span s = n/4, n/16, ... >= 2, in that order), for each pair of
;;             indices (j, j+1), j < s even, six f64x2: w1 re, w1 im, w2 re, w2 im, w3 re, w3 im with
;;             wq = e^{-2πiqj/4s} in lane 0 and the same for j + 1 in lane 1 (48·s bytes per stage);
;;   arrays:   complex arrays of n points as n f64 real parts followed by n f64 imaginary parts.
;; SIMD lanes are two adjacent indices j, j+1 of a butterfly, so every lane does what the scalar transform
;; does at its index, in the same order of operations, with plain multiplies and adds (no fused multiply-add):
;; results are the same on every machine. Blocks are transformed depth first: once a block fits in L1
;; (1024 points, 16 KiB) its remaining stages run there instead of streaming the whole array per stage.
(module
  (memory (export "memory") 1)

  ;; One forward radix-4 stage (quarter span s, twiddles at tw) on the blocks of [from, to) (real parts; the
  ;; imaginary parts are d bytes further).
  (func $fwdStage (param $from i32) (param $to i32) (param $s i32) (param $tw i32) (param $d i32)
    (local $q i32) (local $b i32) (local $j i32) (local $jEnd i32) (local $t i32)
    (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $ar v128) (local $ai v128) (local $br v128) (local $bi v128)
    (local $cr v128) (local $ci v128) (local $dr v128) (local $di v128)
    (local $t0r v128) (local $t0i v128) (local $t1r v128) (local $t1i v128)
    (local $t2r v128) (local $t2i v128) (local $t3r v128) (local $t3i v128)
    (local $yr v128) (local $yi v128) (local $wr v128) (local $wi v128)
    (local.set $q (i32.shl (local.get $s) (i32.const 3)))
    (local.set $b (local.get $from))
    (loop $blocks
      (local.set $j (local.get $b))
      (local.set $jEnd (i32.add (local.get $b) (local.get $q)))
      (local.set $t (local.get $tw))
      (loop $pairs
        (local.set $i1 (i32.add (local.get $j) (local.get $q)))
        (local.set $i2 (i32.add (local.get $i1) (local.get $q)))
        (local.set $i3 (i32.add (local.get $i2) (local.get $q)))
        (local.set $ar (v128.load (local.get $j)))
        (local.set $ai (v128.load (i32.add (local.get $j) (local.get $d))))
        (local.set $br (v128.load (local.get $i1)))
        (local.set $bi (v128.load (i32.add (local.get $i1) (local.get $d))))
        (local.set $cr (v128.load (local.get $i2)))
        (local.set $ci (v128.load (i32.add (local.get $i2) (local.get $d))))
        (local.set $dr (v128.load (local.get $i3)))
        (local.set $di (v128.load (i32.add (local.get $i3) (local.get $d))))
        (local.set $t0r (f64x2.add (local.get $ar) (local.get $cr)))
        (local.set $t0i (f64x2.add (local.get $ai) (local.get $ci)))
        (local.set $t1r (f64x2.sub (local.get $ar) (local.get $cr)))
        (local.set $t1i (f64x2.sub (local.get $ai) (local.get $ci)))
        (local.set $t2r (f64x2.add (local.get $br) (local.get $dr)))
        (local.set $t2i (f64x2.add (local.get $bi) (local.get $di)))
        (local.set $t3r (f64x2.sub (local.get $br) (local.get $dr)))
        (local.set $t3i (f64x2.sub (local.get $bi) (local.get $di)))
        (v128.store (local.get $j) (f64x2.add (local.get $t0r) (local.get $t2r)))
        (v128.store (i32.add (local.get $j) (local.get $d)) (f64x2.add (local.get $t0i) (local.get $t2i)))
        ;; y1 = t1 - i·t3, y2 = t0 - t2, y3 = t1 + i·t3, each times its twiddle.
        (local.set $yr (f64x2.add (local.get $t1r) (local.get $t3i)))
        (local.set $yi (f64x2.sub (local.get $t1i) (local.get $t3r)))
        (local.set $wr (v128.load offset=0 (local.get $t)))
        (local.set $wi (v128.load offset=16 (local.get $t)))
        (v128.store (local.get $i1)
          (f64x2.sub (f64x2.mul (local.get $yr) (local.get $wr)) (f64x2.mul (local.get $yi) (local.get $wi))))
        (v128.store (i32.add (local.get $i1) (local.get $d))
          (f64x2.add (f64x2.mul (local.get $yr) (local.get $wi)) (f64x2.mul (local.get $yi) (local.get $wr))))
        (local.set $yr (f64x2.sub (local.get $t0r) (local.get $t2r)))
        (local.set $yi (f64x2.sub (local.get $t0i) (local.get $t2i)))
        (local.set $wr (v128.load offset=32 (local.get $t)))
        (local.set $wi (v128.load offset=48 (local.get $t)))
        (v128.store (local.get $i2)
          (f64x2.sub (f64x2.mul (local.get $yr) (local.get $wr)) (f64x2.mul (local.get $yi) (local.get $wi))))
        (v128.store (i32.add (local.get $i2) (local.get $d))
          (f64x2.add (f64x2.mul (local.get $yr) (local.get $wi)) (f64x2.mul (local.get $yi) (local.get $wr))))
        (local.set $yr (f64x2.sub (local.get $t1r) (local.get $t3i)))
        (local.set $yi (f64x2.add (local.get $t1i) (local.get $t3r)))
        (local.set $wr (v128.load offset=64 (local.get $t)))
        (local.set $wi (v128.load offset=80 (local.get $t)))
        (v128.store (local.get $i3)
          (f64x2.sub (f64x2.mul (local.get $yr) (local.get $wr)) (f64x2.mul (local.get $yi) (local.get $wi))))
        (v128.store (i32.add (local.get $i3) (local.get $d))
          (f64x2.add (f64x2.mul (local.get $yr) (local.get $wi)) (f64x2.mul (local.get $yi) (local.get $wr))))
        (local.set $t (i32.add (local.get $t) (i32.const 96)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $pairs (i32.lt_u (local.get $j) (local.get $jEnd))))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $q) (i32.const 2))))
      (br_if $blocks (i32.lt_u (local.get $b) (local.get $to)))))

  ;; The conjugate transpose of $fwdStage: conjugate twiddles, then the inverse butterfly.
  (func $invStage (param $from i32) (param $to i32) (param $s i32) (param $tw i32) (param $d i32)
    (local $q i32) (local $b i32) (local $j i32) (local $jEnd i32) (local $t i32)
    (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $ar v128) (local $ai v128) (local $br v128) (local $bi v128)
    (local $cr v128) (local $ci v128) (local $dr v128) (local $di v128)
    (local $t0r v128) (local $t0i v128) (local $t1r v128) (local $t1i v128)
    (local $t2r v128) (local $t2i v128) (local $t3r v128) (local $t3i v128)
    (local $xr v128) (local $xi v128) (local $wr v128) (local $wi v128)
    (local.set $q (i32.shl (local.get $s) (i32.const 3)))
    (local.set $b (local.get $from))
    (loop $blocks
      (local.set $j (local.get $b))
      (local.set $jEnd (i32.add (local.get $b) (local.get $q)))
      (local.set $t (local.get $tw))
      (loop $pairs
        (local.set $i1 (i32.add (local.get $j) (local.get $q)))
        (local.set $i2 (i32.add (local.get $i1) (local.get $q)))
        (local.set $i3 (i32.add (local.get $i2) (local.get $q)))
        (local.set $ar (v128.load (local.get $j)))
        (local.set $ai (v128.load (i32.add (local.get $j) (local.get $d))))
        (local.set $wr (v128.load offset=0 (local.get $t)))
        (local.set $wi (v128.load offset=16 (local.get $t)))
        (local.set $xr (v128.load (local.get $i1)))
        (local.set $xi (v128.load (i32.add (local.get $i1) (local.get $d))))
        (local.set $br
          (f64x2.add (f64x2.mul (local.get $xr) (local.get $wr)) (f64x2.mul (local.get $xi) (local.get $wi))))
        (local.set $bi
          (f64x2.sub (f64x2.mul (local.get $xi) (local.get $wr)) (f64x2.mul (local.get $xr) (local.get $wi))))
        (local.set $wr (v128.load offset=32 (local.get $t)))
        (local.set $wi (v128.load offset=48 (local.get $t)))
        (local.set $xr (v128.load (local.get $i2)))
        (local.set $xi (v128.load (i32.add (local.get $i2) (local.get $d))))
        (local.set $cr
          (f64x2.add (f64x2.mul (local.get $xr) (local.get $wr)) (f64x2.mul (local.get $xi) (local.get $wi))))
        (local.set $ci
          (f64x2.sub (f64x2.mul (local.get $xi) (local.get $wr)) (f64x2.mul (local.get $xr) (local.get $wi))))
        (local.set $wr (v128.load offset=64 (local.get $t)))
        (local.set $wi (v128.load offset=80 (local.get $t)))
        (local.set $xr (v128.load (local.get $i3)))
        (local.set $xi (v128.load (i32.add (local.get $i3) (local.get $d))))
        (local.set $dr
          (f64x2.add (f64x2.mul (local.get $xr) (local.get $wr)) (f64x2.mul (local.get $xi) (local.get $wi))))
        (local.set $di
          (f64x2.sub (f64x2.mul (local.get $xi) (local.get $wr)) (f64x2.mul (local.get $xr) (local.get $wi))))
        (local.set $t0r (f64x2.add (local.get $ar) (local.get $cr)))
        (local.set $t0i (f64x2.add (local.get $ai) (local.get $ci)))
        (local.set $t1r (f64x2.sub (local.get $ar) (local.get $cr)))
        (local.set $t1i (f64x2.sub (local.get $ai) (local.get $ci)))
        (local.set $t2r (f64x2.add (local.get $br) (local.get $dr)))
        (local.set $t2i (f64x2.add (local.get $bi) (local.get $di)))
        (local.set $t3r (f64x2.sub (local.get $br) (local.get $dr)))
        (local.set $t3i (f64x2.sub (local.get $bi) (local.get $di)))
        ;; x0 = t0 + t2, x1 = t1 + i·t3, x2 = t0 - t2, x3 = t1 - i·t3.
        (v128.store (local.get $j) (f64x2.add (local.get $t0r) (local.get $t2r)))
        (v128.store (i32.add (local.get $j) (local.get $d)) (f64x2.add (local.get $t0i) (local.get $t2i)))
        (v128.store (local.get $i1) (f64x2.sub (local.get $t1r) (local.get $t3i)))
        (v128.store (i32.add (local.get $i1) (local.get $d)) (f64x2.add (local.get $t1i) (local.get $t3r)))
        (v128.store (local.get $i2) (f64x2.sub (local.get $t0r) (local.get $t2r)))
        (v128.store (i32.add (local.get $i2) (local.get $d)) (f64x2.sub (local.get $t0i) (local.get $t2i)))
        (v128.store (local.get $i3) (f64x2.add (local.get $t1r) (local.get $t3i)))
        (v128.store (i32.add (local.get $i3) (local.get $d)) (f64x2.sub (local.get $t1i) (local.get $t3r)))
        (local.set $t (i32.add (local.get $t) (i32.const 96)))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br_if $pairs (i32.lt_u (local.get $j) (local.get $jEnd))))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $q) (i32.const 2))))
      (br_if $blocks (i32.lt_u (local.get $b) (local.get $to)))))

  ;; The twiddle-free last stage on adjacent groups of `size` (4 or 2) points of [from, to), forward (sign -1)
  ;; or inverse (sign 1); each is its own stage's conjugate transpose. Size 4: with t0..t3 as in the stages and
  ;; u = sign·t3, the outputs are t0 + t2, t1 - i·u, t0 - t2, t1 + i·u; lanes (0, 1) and (2, 3) hold
  ;; (t0, t1) + (t2, -i·u) and its difference. Size 2: (x0 + x1, x0 - x1) per pair.
  (func $lastStage (param $from i32) (param $to i32) (param $size i32) (param $sign f64) (param $d i32)
    (local $a i32)
    (local $v0 v128) (local $v1 v128) (local $u0 v128) (local $u1 v128)
    (local $sr v128) (local $dr v128) (local $si v128) (local $di v128)
    (local $xr v128) (local $yr v128) (local $xi v128) (local $yi v128)
    (local $neg v128) (local $pos v128)
    (local.set $a (local.get $from))
    (if (i32.eq (local.get $size) (i32.const 2))
      (then
        (local.set $neg (f64x2.replace_lane 1 (f64x2.splat (f64.const 1)) (f64.const -1)))
        (loop $pairs
          (local.set $v0 (v128.load (local.get $a)))
          (local.set $u0 (v128.load (i32.add (local.get $a) (local.get $d))))
          (v128.store (local.get $a) (f64x2.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 (local.get $v0) (local.get $v0))
            (f64x2.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v0) (local.get $v0))
              (local.get $neg))))
          (v128.store (i32.add (local.get $a) (local.get $d)) (f64x2.add
            (i8x16.shuffle 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 (local.get $u0) (local.get $u0))
            (f64x2.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $u0) (local.get $u0))
              (local.get $neg))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (br_if $pairs (i32.lt_u (local.get $a) (local.get $to))))
        (return)))
    (local.set $neg (f64x2.replace_lane 1 (f64x2.splat (f64.const 1)) (f64.neg (local.get $sign))))
    (local.set $pos (f64x2.replace_lane 1 (f64x2.splat (f64.const 1)) (local.get $sign)))
    (loop $groups
      (local.set $v0 (v128.load offset=0 (local.get $a)))
      (local.set $v1 (v128.load offset=16 (local.get $a)))
      (local.set $u0 (v128.load offset=0 (i32.add (local.get $a) (local.get $d))))
      (local.set $u1 (v128.load offset=16 (i32.add (local.get $a) (local.get $d))))
      ;; sr = (t0r, t2r), dr = (t1r, br - dr); si, di the same for the imaginary parts.
      (local.set $sr (f64x2.add (local.get $v0) (local.get $v1)))
      (local.set $dr (f64x2.sub (local.get $v0) (local.get $v1)))
      (local.set $si (f64x2.add (local.get $u0) (local.get $u1)))
      (local.set $di (f64x2.sub (local.get $u0) (local.get $u1)))
      ;; xr = (t0r, t1r), yr = (t2r, -sign·(bi - di)); xi = (t0i, t1i), yi = (t2i, sign·(br - dr)).
      (local.set $xr (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $sr) (local.get $dr)))
      (local.set $yr (f64x2.mul (local.get $neg)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $sr) (local.get $di))))
      (local.set $xi (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $si) (local.get $di)))
      (local.set $yi (f64x2.mul (local.get $pos)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $si) (local.get $dr))))
      (v128.store offset=0 (local.get $a) (f64x2.add (local.get $xr) (local.get $yr)))
      (v128.store offset=16 (local.get $a) (f64x2.sub (local.get $xr) (local.get $yr)))
      (v128.store offset=0 (i32.add (local.get $a) (local.get $d)) (f64x2.add (local.get $xi) (local.get $yi)))
      (v128.store offset=16 (i32.add (local.get $a) (local.get $d)) (f64x2.sub (local.get $xi) (local.get $yi)))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (br_if $groups (i32.lt_u (local.get $a) (local.get $to)))))

  ;; Forward transform of the block of `len` points at `base` whose first stage's twiddles are at tw.
  (func $fwdBlock (param $base i32) (param $len i32) (param $tw i32) (param $d i32)
    (local $end i32) (local $s i32)
    (local.set $end (i32.add (local.get $base) (i32.shl (local.get $len) (i32.const 3))))
    (if (i32.le_u (local.get $len) (i32.const 1024))
      (then
        (block $done
          (loop $stages
            (br_if $done (i32.lt_u (local.get $len) (i32.const 8)))
            (local.set $s (i32.shr_u (local.get $len) (i32.const 2)))
            (call $fwdStage (local.get $base) (local.get $end) (local.get $s) (local.get $tw) (local.get $d))
            (local.set $tw (i32.add (local.get $tw) (i32.mul (local.get $s) (i32.const 48))))
            (local.set $len (local.get $s))
            (br $stages)))
        (call $lastStage (local.get $base) (local.get $end) (local.get $len) (f64.const -1) (local.get $d))
        (return)))
    (local.set $s (i32.shr_u (local.get $len) (i32.const 2)))
    (call $fwdStage (local.get $base) (local.get $end) (local.get $s) (local.get $tw) (local.get $d))
    (local.set $tw (i32.add (local.get $tw) (i32.mul (local.get $s) (i32.const 48))))
    (local.set $len (i32.shl (local.get $s) (i32.const 3)))
    (call $fwdBlock (local.get $base) (local.get $s) (local.get $tw) (local.get $d))
    (call $fwdBlock (i32.add (local.get $base) (local.get $len)) (local.get $s) (local.get $tw) (local.get $d))
    (call $fwdBlock (i32.add (local.get $base) (i32.shl (local.get $len) (i32.const 1))) (local.get $s)
      (local.get $tw) (local.get $d))
    (call $fwdBlock (i32.add (local.get $base) (i32.mul (local.get $len) (i32.const 3))) (local.get $s)
      (local.get $tw) (local.get $d)))

  ;; The reverse of $fwdBlock: the quarters' later stages first, then this block's stage.
  (func $invBlock (param $base i32) (param $len i32) (param $tw i32) (param $d i32)
    (local $end i32) (local $s i32) (local $l i32) (local $t i32)
    (local.set $end (i32.add (local.get $base) (i32.shl (local.get $len) (i32.const 3))))
    (if (i32.le_u (local.get $len) (i32.const 1024))
      (then
        ;; Walk down to the last stage's size, then back up through the stages' twiddle tables.
        (local.set $l (local.get $len))
        (local.set $t (local.get $tw))
        (block $down
          (loop $walk
            (br_if $down (i32.lt_u (local.get $l) (i32.const 8)))
            (local.set $l (i32.shr_u (local.get $l) (i32.const 2)))
            (local.set $t (i32.add (local.get $t) (i32.mul (local.get $l) (i32.const 48))))
            (br $walk)))
        (call $lastStage (local.get $base) (local.get $end) (local.get $l) (f64.const 1) (local.get $d))
        (block $up
          (loop $stages
            (br_if $up (i32.ge_u (local.get $l) (local.get $len)))
            (local.set $t (i32.sub (local.get $t) (i32.mul (local.get $l) (i32.const 48))))
            (call $invStage (local.get $base) (local.get $end) (local.get $l) (local.get $t) (local.get $d))
            (local.set $l (i32.shl (local.get $l) (i32.const 2)))
            (br $stages)))
        (return)))
    (local.set $s (i32.shr_u (local.get $len) (i32.const 2)))
    (local.set $t (i32.add (local.get $tw) (i32.mul (local.get $s) (i32.const 48))))
    (local.set $l (i32.shl (local.get $s) (i32.const 3)))
    (call $invBlock (local.get $base) (local.get $s) (local.get $t) (local.get $d))
    (call $invBlock (i32.add (local.get $base) (local.get $l)) (local.get $s) (local.get $t) (local.get $d))
    (call $invBlock (i32.add (local.get $base) (i32.shl (local.get $l) (i32.const 1))) (local.get $s)
      (local.get $t) (local.get $d))
    (call $invBlock (i32.add (local.get $base) (i32.mul (local.get $l) (i32.const 3))) (local.get $s)
      (local.get $t) (local.get $d))
    (call $invStage (local.get $base) (local.get $end) (local.get $s) (local.get $tw) (local.get $d)))

  ;; Forward transform (e^{-2πijk/n}) in place of the array at x, natural order to scrambled order.
  (func (export "forward") (param $x i32) (param $n i32) (param $tw i32)
    (call $fwdBlock (local.get $x) (local.get $n) (local.get $tw) (i32.shl (local.get $n) (i32.const 3))))

  ;; Unscaled inverse (n times the inverse DFT) in place, from the scrambled order back to natural order.
  (func (export "inverse") (param $x i32) (param $n i32) (param $tw i32)
    (call $invBlock (local.get $x) (local.get $n) (local.get $tw) (i32.shl (local.get $n) (i32.const 3))))

  ;; y = x·h point by point (complex arrays of n points; y may be x).
  (func (export "multiply") (param $x i32) (param $h i32) (param $y i32) (param $n i32)
    (local $d i32) (local $end i32) (local $xr v128) (local $xi v128) (local $hr v128) (local $hi v128)
    (local.set $d (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.add (local.get $x) (local.get $d)))
    (loop $points
      (local.set $xr (v128.load (local.get $x)))
      (local.set $xi (v128.load (i32.add (local.get $x) (local.get $d))))
      (local.set $hr (v128.load (local.get $h)))
      (local.set $hi (v128.load (i32.add (local.get $h) (local.get $d))))
      (v128.store (local.get $y)
        (f64x2.sub (f64x2.mul (local.get $xr) (local.get $hr)) (f64x2.mul (local.get $xi) (local.get $hi))))
      (v128.store (i32.add (local.get $y) (local.get $d))
        (f64x2.add (f64x2.mul (local.get $xr) (local.get $hi)) (f64x2.mul (local.get $xi) (local.get $hr))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $h (i32.add (local.get $h) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br_if $points (i32.lt_u (local.get $x) (local.get $end)))))

  ;; x[i] += c for the n f64 at x (any 8-byte alignment); returns the sum of 0·x[i] after the addition: 0,
  ;; or NaN when one of them is not finite.
  (func (export "add") (param $x i32) (param $n i32) (param $c f64) (result f64)
    (local $end i32) (local $cv v128) (local $v v128) (local $z v128) (local $t f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
    (local.set $cv (f64x2.splat (local.get $c)))
    (local.set $z (v128.const i64x2 0 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (f64x2.add (v128.load (local.get $x)) (local.get $cv)))
        (v128.store (local.get $x) (local.get $v))
        (local.set $z (f64x2.add (local.get $z) (f64x2.mul (local.get $v) (v128.const i64x2 0 0))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $t (f64.add (f64.load (local.get $x)) (local.get $c)))
        (f64.store (local.get $x) (local.get $t))
        (local.set $z (f64x2.add (local.get $z) (f64x2.splat (f64.mul (local.get $t) (f64.const 0)))))))
    (f64.add (f64x2.extract_lane 0 (local.get $z)) (f64x2.extract_lane 1 (local.get $z)))))
