;; The O(n log n) cross sum S1 = sum_ij |x_i - x_j| |y_i - y_j| of kernels/dcor_core.ts `CrossSum` (Huo &
;; Szekely 2016), for x against y or a permutation of y. Built into kernels/dcor_cross_wasm.ts by
;; scripts/build_wasm.ts (the runtime needs no compiler).
;;
;; Every f64 operation is the one the algorithm's derivation writes, in the same order (no fused
;; multiply-add; f64x2 lanes only pair two independent sums), so the result is the same bit for bit on every
;; machine and for every caller. Notation: y' is the permuted y; point i of y' is point src(i) of y.
;;
;; Memory, laid out by the caller (byte offsets; n points):
;;   x   f64[n]      x by point          xo  f64[n]    x in ascending x order
;;   ox  i32[n]      ascending x order   oy  i32[n]    ascending y order
;;   yr  16 bytes[n] y by point: (y f64, its rank i32, 4 bytes unused)
;;   ys  f64[n]      y in ascending order (the y' of rank r is ys[r] whatever the permutation)
;;   src i32[n]      src(ox[k]) for x rank k      pt  i32[n]   the point of y' whose rank is r
;;   py  32 bytes[n] prefix sums in y' order before rank r: (sum x, sum y, sum xy, unused)
;;   tree 32 bytes[n + 1] Fenwick tree over y' ranks of (count, sum xy, sum x, sum y); node 0 unused
(module
  (memory (export "memory") 1)

  ;; src and pt for the circular shift y'_i = y[(i + s) mod n], 0 <= s < n.
  (func (export "shift") (param $n i32) (param $s i32) (param $ox i32) (param $oy i32) (param $src i32)
    (param $pt i32)
    (local $k i32) (local $j i32)
    (if (i32.eqz (local.get $n)) (then (return)))
    (loop $fwd
      (local.set $j (i32.add (i32.load (i32.add (local.get $ox) (i32.shl (local.get $k) (i32.const 2))))
        (local.get $s)))
      (i32.store (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))
        (select (i32.sub (local.get $j) (local.get $n)) (local.get $j)
          (i32.ge_u (local.get $j) (local.get $n))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $fwd (i32.lt_u (local.get $k) (local.get $n))))
    (local.set $k (i32.const 0))
    (loop $back
      (local.set $j (i32.sub (i32.load (i32.add (local.get $oy) (i32.shl (local.get $k) (i32.const 2))))
        (local.get $s)))
      (i32.store (i32.add (local.get $pt) (i32.shl (local.get $k) (i32.const 2)))
        (select (i32.add (local.get $j) (local.get $n)) (local.get $j)
          (i32.lt_s (local.get $j) (i32.const 0))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $back (i32.lt_u (local.get $k) (local.get $n)))))

  ;; S1 of x against y' (src and pt written by `shift` or by the caller).
  (func (export "cross") (param $n i32) (param $x i32) (param $xo i32) (param $yr i32) (param $ys i32)
    (param $src i32) (param $pt i32) (param $py i32) (param $tree i32) (result f64)
    (local $k i32) (local $r i32) (local $node i32) (local $o i32)
    (local $s v128) (local $sxy f64) (local $xk f64) (local $yk f64)
    (local $totX f64) (local $totY f64) (local $totXY f64) (local $nf f64)
    (local $q v128) (local $qxy f64) (local $s1 f64) (local $xi f64) (local $yi f64) (local $xy f64)
    (local $a v128) (local $b v128) (local $d v128) (local $v1 v128) (local $v2 v128)
    (local $dc f64) (local $dxy f64) (local $full f64) (local $disc f64)
    (if (i32.eqz (local.get $n)) (then (return (f64.const 0))))
    ;; Prefix sums in y' order of (x, y, xy): the quadrant {y_j < y_i} for every i.
    (loop $prefix
      (local.set $xk (f64.load (i32.add (local.get $x)
        (i32.shl (i32.load (i32.add (local.get $pt) (i32.shl (local.get $r) (i32.const 2)))) (i32.const 3)))))
      (local.set $yk (f64.load (i32.add (local.get $ys) (i32.shl (local.get $r) (i32.const 3)))))
      (local.set $o (i32.add (local.get $py) (i32.shl (local.get $r) (i32.const 5))))
      (v128.store (local.get $o) (local.get $s))
      (f64.store offset=16 (local.get $o) (local.get $sxy))
      (local.set $s (f64x2.add (local.get $s)
        (f64x2.replace_lane 1 (f64x2.splat (local.get $xk)) (local.get $yk))))
      (local.set $sxy (f64.add (local.get $sxy) (f64.mul (local.get $xk) (local.get $yk))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $prefix (i32.lt_u (local.get $r) (local.get $n))))
    (local.set $totX (f64x2.extract_lane 0 (local.get $s)))
    (local.set $totY (f64x2.extract_lane 1 (local.get $s)))
    (local.set $totXY (local.get $sxy))
    (local.set $nf (f64.convert_i32_u (local.get $n)))
    ;; An empty tree (nodes 1..n).
    (memory.fill (i32.add (local.get $tree) (i32.const 32)) (i32.const 0) (i32.shl (local.get $n) (i32.const 5)))
    ;; Points in x order; the tree holds those already visited, so a query below rank r sums the quadrant
    ;; {x_j < x_i, y_j < y_i}; (q, qxy) are the prefix sums in x order (the quadrant {x_j < x_i}).
    (loop $points
      (local.set $xi (f64.load (i32.add (local.get $xo) (i32.shl (local.get $k) (i32.const 3)))))
      (local.set $o (i32.add (local.get $yr)
        (i32.shl (i32.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 4))))
      (local.set $yi (f64.load (local.get $o)))
      (local.set $r (i32.load offset=8 (local.get $o)))
      (local.set $a (v128.const i64x2 0 0)) ;; (count, sum xy)
      (local.set $b (v128.const i64x2 0 0)) ;; (sum x, sum y)
      (local.set $node (local.get $r))
      (block $queried
        (br_if $queried (i32.eqz (local.get $node)))
        (loop $query
          (local.set $o (i32.add (local.get $tree) (i32.shl (local.get $node) (i32.const 5))))
          (local.set $a (f64x2.add (local.get $a) (v128.load (local.get $o))))
          (local.set $b (f64x2.add (local.get $b) (v128.load offset=16 (local.get $o))))
          (local.set $node (i32.and (local.get $node) (i32.sub (local.get $node) (i32.const 1))))
          (br_if $query (local.get $node))))
      ;; Discordant = {x_j < x_i, y_j > y_i} + {x_j > x_i, y_j < y_i} = (xLess - LL) + (yLess - LL).
      (local.set $o (i32.add (local.get $py) (i32.shl (local.get $r) (i32.const 5))))
      (local.set $dc (f64.sub (f64.convert_i32_u (i32.add (local.get $k) (local.get $r)))
        (f64.mul (f64.const 2) (f64x2.extract_lane 0 (local.get $a)))))
      (local.set $d (f64x2.sub (f64x2.add (local.get $q) (v128.load (local.get $o)))
        (f64x2.mul (v128.const f64x2 2 2) (local.get $b))))
      (local.set $dxy (f64.sub (f64.add (local.get $qxy) (f64.load offset=16 (local.get $o)))
        (f64.mul (f64.const 2) (f64x2.extract_lane 1 (local.get $a)))))
      ;; full = n xi yi - xi totY - yi totX + totXY; disc likewise over the discordant pairs.
      (local.set $full (f64.add (f64.sub (f64.sub
        (f64.mul (f64.mul (local.get $nf) (local.get $xi)) (local.get $yi))
        (f64.mul (local.get $xi) (local.get $totY)))
        (f64.mul (local.get $yi) (local.get $totX)))
        (local.get $totXY)))
      (local.set $disc (f64.add (f64.sub (f64.sub
        (f64.mul (f64.mul (local.get $dc) (local.get $xi)) (local.get $yi))
        (f64.mul (local.get $xi) (f64x2.extract_lane 1 (local.get $d))))
        (f64.mul (local.get $yi) (f64x2.extract_lane 0 (local.get $d))))
        (local.get $dxy)))
      (local.set $s1 (f64.add (local.get $s1)
        (f64.sub (local.get $full) (f64.mul (f64.const 2) (local.get $disc)))))
      ;; Add the point at rank r.
      (local.set $xy (f64.mul (local.get $xi) (local.get $yi)))
      (local.set $v1 (f64x2.replace_lane 1 (f64x2.splat (f64.const 1)) (local.get $xy)))
      (local.set $v2 (f64x2.replace_lane 1 (f64x2.splat (local.get $xi)) (local.get $yi)))
      (local.set $node (i32.add (local.get $r) (i32.const 1)))
      (block $added
        (br_if $added (i32.gt_u (local.get $node) (local.get $n)))
        (loop $update
          (local.set $o (i32.add (local.get $tree) (i32.shl (local.get $node) (i32.const 5))))
          (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (local.get $v1)))
          (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o)) (local.get $v2)))
          (local.set $node (i32.add (local.get $node)
            (i32.and (local.get $node) (i32.sub (i32.const 0) (local.get $node)))))
          (br_if $update (i32.le_u (local.get $node) (local.get $n)))))
      (local.set $q (f64x2.add (local.get $q) (local.get $v2)))
      (local.set $qxy (f64.add (local.get $qxy) (local.get $xy)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $points (i32.lt_u (local.get $k) (local.get $n))))
    (local.get $s1)))
