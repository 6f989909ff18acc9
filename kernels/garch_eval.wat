;; The sums of `garchEvalFull` (kernels/garch_eval.ts: GARCH(1,1)-normal log-likelihood, analytic gradient,
;; Hessian and score outer product). Built into kernels/garch_eval_wasm.ts by scripts/build_wasm.ts (the
;; runtime needs no compiler).
;;
;; Every f64 operation is the one the TypeScript loop it replaced writes (kept as the reference in
;; tests/garch_eval_test.ts), in the same order (no fused multiply-add, no
;; reassociation; f64x2 lanes only pair independent quantities), so both give the same bits. WebAssembly has
;; no log: the product of each block of 8 consecutive s2_t is stored to `pb` (block k at pb + 8 k) and the
;; caller sums their logs in block order. The speed comes from computing each observation's u = 1/s2_t and
;; the factors of its sums one iteration ahead: the chain s2 -> 1/s2 -> sums is then off the loop's critical
;; path (the TypeScript computed them at the start of each observation, right after s2_t).
;;
;; Memory, laid out by the caller (byte offsets): x f64[n + 1] at `x` (x[n] is read, not used), the block
;; products f64[n >> 3] at `pb`, and the sums at `out`: (q, prod of the last partial block, g0..g3,
;; H00 H10 H11 H20 H21 H22 H30 H31 H32 H33, O00 .. O33 in the same packed order).
(module
  (memory (export "memory") 1)

  ;; garchEvalFull's sums at (mu, om, al, be) for the pre-sample value b, db = dB/dmu, d2b = d2B/dmu2. The
  ;; recursion advances at the end of each observation (from e_t, s2_t to s2_{t+1}; TypeScript advances at the
  ;; start of the next one: the same operations on the same values). f64x2 lanes pair quantities whose
  ;; operations are the same: every derivative of s2 advances as X + be V, and the pairs of sums below.
  (func (export "full") (param $n i32) (param $x i32) (param $pb i32) (param $out i32)
    (param $mu f64) (param $om f64) (param $al f64) (param $be f64) (param $b f64) (param $db f64)
    (param $d2b f64)
    (local $t i32) (local $ab f64) (local $h f64) (local $hp f64) (local $m2al f64) (local $al2 f64)
    (local $q f64) (local $prod f64)
    (local $e f64) (local $u f64) (local $z2 f64) (local $a f64) (local $c f64) (local $eu f64) (local $eu2 f64)
    (local $dm f64) (local $dO f64) (local $dA f64) (local $dB f64) (local $cA f64) (local $cB f64)
    (local $cm f64) (local $cO f64) (local $s0 f64) (local $hob f64)
    (local $H00 f64) (local $H10 f64) (local $H22 f64) (local $H31 f64)
    ;; Derivatives of s2: D = (dA, dB), M = (dm, dO), Hm = (hma, hmb), Hb = (hab, hbb), Hz = (hmm, hob).
    (local $D v128) (local $M v128) (local $Hm v128) (local $Hb v128) (local $Hz v128) (local $vbe v128)
    (local $va v128) (local $vc v128) (local $cD v128) (local $cM v128) (local $V1 v128) (local $V2 v128)
    ;; Sums: (g0, g1), (g2, g3), (O00, O11), (O22, O33), (O20, O31), (O30, O21), (O10, O32), (H20, H30),
    ;; (H32, H33), (H11, H21).
    (local $G01 v128) (local $G23 v128) (local $Oa v128) (local $Ob v128) (local $Oc v128) (local $Od v128)
    (local $Oe v128) (local $Ha v128) (local $Hb3 v128) (local $Hc v128)
    ;; t = 1: s2 = om + (al + be) B(mu).
    (local.set $ab (f64.add (local.get $al) (local.get $be)))
    (local.set $h (f64.add (local.get $om) (f64.mul (local.get $ab) (local.get $b))))
    (local.set $D (f64x2.splat (local.get $b)))
    (local.set $M (f64x2.replace_lane 0 (v128.const f64x2 0 1) (f64.mul (local.get $ab) (local.get $db))))
    (local.set $Hm (f64x2.splat (local.get $db)))
    (local.set $Hz (f64x2.replace_lane 0 (v128.const f64x2 0 0) (f64.mul (local.get $ab) (local.get $d2b))))
    (local.set $prod (f64.const 1))
    (local.set $m2al (f64.mul (f64.const -2) (local.get $al)))
    (local.set $al2 (f64.mul (f64.const 2) (local.get $al)))
    (local.set $vbe (f64x2.splat (local.get $be)))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (f64.sub (f64.load (i32.add (local.get $x) (i32.shl (local.get $t) (i32.const 3))))
        (local.get $mu)))
      (local.set $u (f64.div (f64.const 1) (local.get $h)))
      (local.set $z2 (f64.mul (f64.mul (local.get $e) (local.get $e)) (local.get $u)))
      ;; a = dl/ds2, c = d2l/ds2^2.
      (local.set $a (f64.mul (f64.mul (f64.const 0.5) (f64.sub (local.get $z2) (f64.const 1))) (local.get $u)))
      (local.set $c (f64.mul (f64.mul (f64.mul (f64.const 0.5) (local.get $u)) (local.get $u))
        (f64.sub (f64.const 1) (f64.mul (f64.const 2) (local.get $z2)))))
      (local.set $eu (f64.mul (local.get $e) (local.get $u)))
      (local.set $eu2 (f64.mul (local.get $eu) (local.get $u)))
      (loop $obs
        (local.set $q (f64.add (local.get $q) (local.get $z2)))
        (local.set $prod (f64.mul (local.get $prod) (local.get $h)))
        (if (i32.eq (i32.and (local.get $t) (i32.const 7)) (i32.const 7))
          (then
            (f64.store (i32.add (local.get $pb) (i32.shl (i32.shr_u (local.get $t) (i32.const 3)) (i32.const 3)))
              (local.get $prod))
            (local.set $prod (f64.const 1))))
        (local.set $dm (f64x2.extract_lane 0 (local.get $M)))
        (local.set $dO (f64x2.extract_lane 1 (local.get $M)))
        (local.set $dA (f64x2.extract_lane 0 (local.get $D)))
        (local.set $dB (f64x2.extract_lane 1 (local.get $D)))
        (local.set $va (f64x2.splat (local.get $a)))
        (local.set $vc (f64x2.splat (local.get $c)))
        ;; Scores V1 = (s0, s1) = (a dm + eu, a dO), V2 = (s2, s3) = (a dA, a dB).
        (local.set $V1 (f64x2.mul (local.get $va) (local.get $M)))
        (local.set $s0 (f64.add (f64x2.extract_lane 0 (local.get $V1)) (local.get $eu)))
        (local.set $V1 (f64x2.replace_lane 0 (local.get $V1) (local.get $s0)))
        (local.set $V2 (f64x2.mul (local.get $va) (local.get $D)))
        (local.set $G01 (f64x2.add (local.get $G01) (local.get $V1)))
        (local.set $G23 (f64x2.add (local.get $G23) (local.get $V2)))
        (local.set $Oa (f64x2.add (local.get $Oa) (f64x2.mul (local.get $V1) (local.get $V1))))
        (local.set $Ob (f64x2.add (local.get $Ob) (f64x2.mul (local.get $V2) (local.get $V2))))
        (local.set $Oc (f64x2.add (local.get $Oc) (f64x2.mul (local.get $V2) (local.get $V1))))
        (local.set $Od (f64x2.add (local.get $Od) (f64x2.mul
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V2) (local.get $V2)) (local.get $V1))))
        (local.set $Oe (f64x2.add (local.get $Oe) (f64x2.mul
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $V1) (local.get $V2))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $V1) (local.get $V2)))))
        ;; Hessian: c ds_i ds_j + a d2s_ij - e u^2 (d_jmu ds_i + d_imu ds_j) - u d_imu d_jmu.
        (local.set $cD (f64x2.mul (local.get $vc) (local.get $D)))
        (local.set $cM (f64x2.mul (local.get $vc) (local.get $M)))
        (local.set $cm (f64x2.extract_lane 0 (local.get $cM)))
        (local.set $cO (f64x2.extract_lane 1 (local.get $cM)))
        (local.set $cA (f64x2.extract_lane 0 (local.get $cD)))
        (local.set $cB (f64x2.extract_lane 1 (local.get $cD)))
        (local.set $H00 (f64.add (local.get $H00) (f64.sub (f64.sub
          (f64.add (f64.mul (local.get $cm) (local.get $dm))
            (f64.mul (local.get $a) (f64x2.extract_lane 0 (local.get $Hz))))
          (f64.mul (f64.mul (f64.const 2) (local.get $eu2)) (local.get $dm)))
          (local.get $u))))
        (local.set $H10 (f64.add (local.get $H10) (f64.sub (f64.mul (local.get $cO) (local.get $dm))
          (f64.mul (local.get $eu2) (local.get $dO)))))
        (local.set $H22 (f64.add (local.get $H22) (f64.mul (local.get $cA) (local.get $dA))))
        (local.set $H31 (f64.add (local.get $H31) (f64.add (f64.mul (local.get $cB) (local.get $dO))
          (f64.mul (local.get $a) (f64x2.extract_lane 1 (local.get $Hz))))))
        ;; (H20, H30) += c (dA, dB) dm + a (hma, hmb) - eu2 (dA, dB)
        (local.set $Ha (f64x2.add (local.get $Ha) (f64x2.sub
          (f64x2.add (f64x2.mul (local.get $cD) (f64x2.splat (local.get $dm))) (f64x2.mul (local.get $va) (local.get $Hm)))
          (f64x2.mul (f64x2.splat (local.get $eu2)) (local.get $D)))))
        ;; (H32, H33) += cB (dA, dB) + a (hab, hbb)
        (local.set $Hb3 (f64x2.add (local.get $Hb3) (f64x2.add
          (f64x2.mul (f64x2.splat (local.get $cB)) (local.get $D)) (f64x2.mul (local.get $va) (local.get $Hb)))))
        ;; (H11, H21) += (cO, cA) dO
        (local.set $Hc (f64x2.add (local.get $Hc) (f64x2.mul
          (i8x16.shuffle 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 (local.get $cM) (local.get $cD))
          (f64x2.splat (local.get $dO)))))
        ;; Advance s2 and its derivatives from (e_t, s2_t); second derivatives from the first ones' old values.
        (local.set $hp (local.get $h))
        (local.set $Hb (f64x2.add (f64x2.mul (local.get $D) (v128.const f64x2 1 2))
          (f64x2.mul (local.get $vbe) (local.get $Hb))))
        (local.set $Hz (f64x2.add (f64x2.replace_lane 1 (f64x2.splat (local.get $al2)) (local.get $dO))
          (f64x2.mul (local.get $vbe) (local.get $Hz))))
        (local.set $Hm (f64x2.add (f64x2.replace_lane 1 (f64x2.splat (f64.mul (f64.const -2) (local.get $e)))
          (local.get $dm)) (f64x2.mul (local.get $vbe) (local.get $Hm))))
        (local.set $M (f64x2.add (f64x2.replace_lane 0 (v128.const f64x2 0 1) (f64.mul (local.get $m2al) (local.get $e)))
          (f64x2.mul (local.get $vbe) (local.get $M))))
        (local.set $D (f64x2.add (f64x2.replace_lane 1 (f64x2.splat (f64.mul (local.get $e) (local.get $e))) (local.get $hp))
          (f64x2.mul (local.get $vbe) (local.get $D))))
        (local.set $h (f64.add (f64.add (local.get $om) (f64.mul (f64.mul (local.get $al) (local.get $e)) (local.get $e)))
          (f64.mul (local.get $be) (local.get $hp))))
        ;; The next observation's e, u and the factors of its sums (x[n] is read but unused).
        (local.set $e (f64.sub (f64.load offset=8 (i32.add (local.get $x) (i32.shl (local.get $t) (i32.const 3))))
          (local.get $mu)))
        (local.set $u (f64.div (f64.const 1) (local.get $h)))
        (local.set $z2 (f64.mul (f64.mul (local.get $e) (local.get $e)) (local.get $u)))
        ;; a = dl/ds2, c = d2l/ds2^2.
        (local.set $a (f64.mul (f64.mul (f64.const 0.5) (f64.sub (local.get $z2) (f64.const 1))) (local.get $u)))
        (local.set $c (f64.mul (f64.mul (f64.mul (f64.const 0.5) (local.get $u)) (local.get $u))
          (f64.sub (f64.const 1) (f64.mul (f64.const 2) (local.get $z2)))))
        (local.set $eu (f64.mul (local.get $e) (local.get $u)))
        (local.set $eu2 (f64.mul (local.get $eu) (local.get $u)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $obs (i32.lt_u (local.get $t) (local.get $n)))))
    (f64.store (local.get $out) (local.get $q))
    (f64.store offset=8 (local.get $out) (local.get $prod))
    (v128.store offset=16 (local.get $out) (local.get $G01))
    (v128.store offset=32 (local.get $out) (local.get $G23))
    ;; H00 H10 H11 H20 H21 H22 H30 H31 H32 H33 at offsets 48 .. 120.
    (f64.store offset=48 (local.get $out) (local.get $H00))
    (f64.store offset=56 (local.get $out) (local.get $H10))
    (f64.store offset=64 (local.get $out) (f64x2.extract_lane 0 (local.get $Hc)))
    (f64.store offset=72 (local.get $out) (f64x2.extract_lane 0 (local.get $Ha)))
    (f64.store offset=80 (local.get $out) (f64x2.extract_lane 1 (local.get $Hc)))
    (f64.store offset=88 (local.get $out) (local.get $H22))
    (f64.store offset=96 (local.get $out) (f64x2.extract_lane 1 (local.get $Ha)))
    (f64.store offset=104 (local.get $out) (local.get $H31))
    (v128.store offset=112 (local.get $out) (local.get $Hb3))
    ;; O00 O10 O11 O20 O21 O22 O30 O31 O32 O33 at offsets 128 .. 200.
    (f64.store offset=128 (local.get $out) (f64x2.extract_lane 0 (local.get $Oa)))
    (f64.store offset=136 (local.get $out) (f64x2.extract_lane 0 (local.get $Oe)))
    (f64.store offset=144 (local.get $out) (f64x2.extract_lane 1 (local.get $Oa)))
    (f64.store offset=152 (local.get $out) (f64x2.extract_lane 0 (local.get $Oc)))
    (f64.store offset=160 (local.get $out) (f64x2.extract_lane 1 (local.get $Od)))
    (f64.store offset=168 (local.get $out) (f64x2.extract_lane 0 (local.get $Ob)))
    (f64.store offset=176 (local.get $out) (f64x2.extract_lane 0 (local.get $Od)))
    (f64.store offset=184 (local.get $out) (f64x2.extract_lane 1 (local.get $Oc)))
    (f64.store offset=192 (local.get $out) (f64x2.extract_lane 1 (local.get $Oe)))
    (f64.store offset=200 (local.get $out) (f64x2.extract_lane 1 (local.get $Ob)))))
