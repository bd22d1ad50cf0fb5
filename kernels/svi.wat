;; The inner problem of the SVI quasi-explicit fit (docs/methodology.md §11a) as WebAssembly: for fixed (m, σ),
;; the weighted moments of the slice's quotes, the constraint rows, the primal active-set method on the
;; convex quadratic problem in (a, d, c), and the weighted squared error of its solution. Compiled to
;; dist/kernels/svi.wasm by `npm run build` (scripts/build-wasm.mjs, the wabt package); driven by
;; kernels/sviWasm.ts. The arithmetic is src/surface/svi.ts's (moments, constraintRows, slack, kktStep,
;; factor, solveFactored, activeSetQp, innerError), operation for operation and in the same order, so it
;; gives the same bits (WebAssembly's f64 operations are IEEE 754's, as JavaScript's; no fused multiply-add).
;; Where the method does not converge, the active sets are enumerated here too (svi.ts enumerateQp, ~270 of a chain's
;; ~74,000 problems): in JavaScript that fallback and its warm-up cost the report's thread ~15 ms of TurboFan a run.
;;
;; Memory (byte addresses):
;;   0     CONST  f64 [j·4 + 0..3]   the static constraint rows (ca, cd, cc, k) with k = −sigmaCoefficient·2:
;;                                   the row's right-hand side is k·σ (at most 16 rows)
;;   512   A      f64 [r·6 + c]      the KKT matrix (stride 6), then its upper triangle after $factor
;;   800   B      f64 [6]            the right-hand side
;;   848   X      f64 [6]            the KKT solution: the step (or point) in 0..2, the multipliers after it
;;   896   F      f64 [col·6 + r]    $factor's multipliers
;;   1184  PIV    i32 [6]            $factor's pivot rows
;;   1208  W      i32 [3]            the active-set method's working set (the enumeration's active set)
;;   1224  OUT    f64 [4]            the solution (a, d, c) and its weighted squared error
;;   1256  H      f64 [9]            the moments: H (3 × 3, row-major), then
;;   1328  G      f64 [3]            g
;;   1352  PTS    f64 [i·3 + 0..2]   the quotes (x, w, weight), np of them; then
;;         FLR    f64 [f·2 + 0..1]   the floors (x, w), nf of them; then
;;         Y, Z   f64 [np] each      y = (x − m)/σ and z = √(y² + 1) of each quote; then
;;         CONS   f64 [i·4 + 0..3]   the rows (ca, cd, cc, rhs): ca·a + cd·d + cc·c ≥ rhs, nc0 static then nf floors
(module
  (memory (export "memory") 1)

  ;; svi.ts factor: Gaussian elimination with partial pivoting of A (n × n) in place; 0 when singular.
  (func $factor (param $n i32) (result i32)
    (local $col i32) (local $co i32) (local $piv i32) (local $big f64) (local $r i32) (local $v f64)
    (local $po i32) (local $c i32) (local $t f64) (local $pv f64) (local $ro i32) (local $f f64)
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $col) (local.get $n)))
        (local.set $co (i32.mul (local.get $col) (i32.const 6)))
        (local.set $piv (local.get $col))
        (local.set $big
          (f64.abs (f64.load offset=512 (i32.shl (i32.add (local.get $co) (local.get $col)) (i32.const 3)))))
        (local.set $r (i32.add (local.get $col) (i32.const 1)))
        (block $pivDone
          (loop $pivot
            (br_if $pivDone (i32.ge_s (local.get $r) (local.get $n)))
            (local.set $v
              (f64.abs
                (f64.load offset=512
                  (i32.shl (i32.add (i32.mul (local.get $r) (i32.const 6)) (local.get $col)) (i32.const 3)))))
            (if (f64.gt (local.get $v) (local.get $big))
              (then (local.set $big (local.get $v)) (local.set $piv (local.get $r))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $pivot)))
        (i32.store offset=1184 (i32.shl (local.get $col) (i32.const 2)) (local.get $piv))
        (if (f64.lt (local.get $big) (f64.const 1e-14)) (then (return (i32.const 0))))
        (if (i32.ne (local.get $piv) (local.get $col))
          (then
            ;; columns left of col are no longer read
            (local.set $po (i32.mul (local.get $piv) (i32.const 6)))
            (local.set $c (local.get $col))
            (block $swapDone
              (loop $swap
                (br_if $swapDone (i32.ge_s (local.get $c) (local.get $n)))
                (local.set $t (f64.load offset=512 (i32.shl (i32.add (local.get $po) (local.get $c)) (i32.const 3))))
                (f64.store offset=512 (i32.shl (i32.add (local.get $po) (local.get $c)) (i32.const 3))
                  (f64.load offset=512 (i32.shl (i32.add (local.get $co) (local.get $c)) (i32.const 3))))
                (f64.store offset=512 (i32.shl (i32.add (local.get $co) (local.get $c)) (i32.const 3)) (local.get $t))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $swap)))))
        (local.set $pv (f64.load offset=512 (i32.shl (i32.add (local.get $co) (local.get $col)) (i32.const 3))))
        (local.set $r (i32.add (local.get $col) (i32.const 1)))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $n)))
            (local.set $ro (i32.mul (local.get $r) (i32.const 6)))
            (local.set $f
              (f64.div
                (f64.load offset=512 (i32.shl (i32.add (local.get $ro) (local.get $col)) (i32.const 3)))
                (local.get $pv)))
            (f64.store offset=896 (i32.shl (i32.add (local.get $co) (local.get $r)) (i32.const 3)) (local.get $f))
            (if (f64.ne (local.get $f) (f64.const 0))
              (then
                ;; A[r][col] becomes ~0 and is not read again
                (local.set $c (i32.add (local.get $col) (i32.const 1)))
                (block $elimDone
                  (loop $elim
                    (br_if $elimDone (i32.ge_s (local.get $c) (local.get $n)))
                    (f64.store offset=512 (i32.shl (i32.add (local.get $ro) (local.get $c)) (i32.const 3))
                      (f64.sub
                        (f64.load offset=512 (i32.shl (i32.add (local.get $ro) (local.get $c)) (i32.const 3)))
                        (f64.mul
                          (local.get $f)
                          (f64.load offset=512 (i32.shl (i32.add (local.get $co) (local.get $c)) (i32.const 3))))))
                    (local.set $c (i32.add (local.get $c) (i32.const 1)))
                    (br $elim)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $col (i32.add (local.get $col) (i32.const 1)))
        (br $cols)))
    (i32.const 1))

  ;; svi.ts solveFactored: B's row swaps and multipliers, then back substitution into X.
  (func $solve (param $n i32)
    (local $col i32) (local $piv i32) (local $t f64) (local $co i32) (local $bc f64) (local $r i32) (local $f f64)
    (local $ro i32) (local $s f64) (local $c i32)
    (block $done
      (loop $cols
        (br_if $done (i32.ge_s (local.get $col) (local.get $n)))
        (local.set $piv (i32.load offset=1184 (i32.shl (local.get $col) (i32.const 2))))
        (if (i32.ne (local.get $piv) (local.get $col))
          (then
            (local.set $t (f64.load offset=800 (i32.shl (local.get $piv) (i32.const 3))))
            (f64.store offset=800 (i32.shl (local.get $piv) (i32.const 3))
              (f64.load offset=800 (i32.shl (local.get $col) (i32.const 3))))
            (f64.store offset=800 (i32.shl (local.get $col) (i32.const 3)) (local.get $t))))
        (local.set $co (i32.mul (local.get $col) (i32.const 6)))
        (local.set $bc (f64.load offset=800 (i32.shl (local.get $col) (i32.const 3))))
        (local.set $r (i32.add (local.get $col) (i32.const 1)))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $r) (local.get $n)))
            (local.set $f (f64.load offset=896 (i32.shl (i32.add (local.get $co) (local.get $r)) (i32.const 3))))
            (if (f64.ne (local.get $f) (f64.const 0))
              (then
                (f64.store offset=800 (i32.shl (local.get $r) (i32.const 3))
                  (f64.sub
                    (f64.load offset=800 (i32.shl (local.get $r) (i32.const 3)))
                    (f64.mul (local.get $f) (local.get $bc))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $col (i32.add (local.get $col) (i32.const 1)))
        (br $cols)))
    (local.set $r (i32.sub (local.get $n) (i32.const 1)))
    (block $backDone
      (loop $back
        (br_if $backDone (i32.lt_s (local.get $r) (i32.const 0)))
        (local.set $ro (i32.mul (local.get $r) (i32.const 6)))
        (local.set $s (f64.load offset=800 (i32.shl (local.get $r) (i32.const 3))))
        (local.set $c (i32.add (local.get $r) (i32.const 1)))
        (block $sumDone
          (loop $sum
            (br_if $sumDone (i32.ge_s (local.get $c) (local.get $n)))
            (local.set $s
              (f64.sub
                (local.get $s)
                (f64.mul
                  (f64.load offset=512 (i32.shl (i32.add (local.get $ro) (local.get $c)) (i32.const 3)))
                  (f64.load offset=848 (i32.shl (local.get $c) (i32.const 3))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $sum)))
        (f64.store offset=848 (i32.shl (local.get $r) (i32.const 3))
          (f64.div (local.get $s) (f64.load offset=512 (i32.shl (i32.add (local.get $ro) (local.get $r)) (i32.const 3)))))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br $back))))

  ;; svi.ts slack: row i's slack at (x0, x1, x2), the rows at byte address cons.
  (func $slack (param $cons i32) (param $i i32) (param $x0 f64) (param $x1 f64) (param $x2 f64) (result f64)
    (local $o i32)
    (local.set $o (i32.add (local.get $cons) (i32.shl (local.get $i) (i32.const 5))))
    (f64.sub
      (f64.add
        (f64.add
          (f64.mul (f64.load (local.get $o)) (local.get $x0))
          (f64.mul (f64.load offset=8 (local.get $o)) (local.get $x1)))
        (f64.mul (f64.load offset=16 (local.get $o)) (local.get $x2)))
      (f64.load offset=24 (local.get $o))))

  ;; svi.ts kktStep on the first k rows of the working set W from (x0, x1, x2), into X; 0 when singular.
  ;; `same` ≠ 0: A's elimination is that of the last successful call (only B is new).
  (func $kkt (param $cons i32) (param $k i32) (param $x0 f64) (param $x1 f64) (param $x2 f64) (param $same i32)
    (result i32)
    (local $n i32) (local $i i32) (local $hi0 f64) (local $hi1 f64) (local $hi2 f64) (local $q i32) (local $o i32)
    (local $r i32) (local $c i32)
    (local.set $n (i32.add (local.get $k) (i32.const 3)))
    (block $hDone
      (loop $h
        (br_if $hDone (i32.ge_s (local.get $i) (i32.const 3)))
        (local.set $hi0 (f64.load offset=1256 (i32.shl (i32.mul (local.get $i) (i32.const 3)) (i32.const 3))))
        (local.set $hi1 (f64.load offset=1264 (i32.shl (i32.mul (local.get $i) (i32.const 3)) (i32.const 3))))
        (local.set $hi2 (f64.load offset=1272 (i32.shl (i32.mul (local.get $i) (i32.const 3)) (i32.const 3))))
        (if (i32.eqz (local.get $same))
          (then
            (local.set $r (i32.shl (i32.mul (local.get $i) (i32.const 6)) (i32.const 3)))
            (f64.store offset=512 (local.get $r) (local.get $hi0))
            (f64.store offset=520 (local.get $r) (local.get $hi1))
            (f64.store offset=528 (local.get $r) (local.get $hi2))
            (local.set $q (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $q) (local.get $k)))
                (f64.store offset=536 (i32.add (local.get $r) (i32.shl (local.get $q) (i32.const 3)))
                  (f64.load
                    (i32.add
                      (local.get $cons)
                      (i32.shl
                        (i32.add
                          (i32.shl (i32.load offset=1208 (i32.shl (local.get $q) (i32.const 2))) (i32.const 2))
                          (local.get $i))
                        (i32.const 3)))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $cols)))))
        (f64.store offset=800 (i32.shl (local.get $i) (i32.const 3))
          (f64.sub
            (f64.load offset=1328 (i32.shl (local.get $i) (i32.const 3)))
            (f64.add
              (f64.add (f64.mul (local.get $hi0) (local.get $x0)) (f64.mul (local.get $hi1) (local.get $x1)))
              (f64.mul (local.get $hi2) (local.get $x2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $h)))
    (local.set $q (i32.const 0))
    (block $qDone
      (loop $rowsQ
        (br_if $qDone (i32.ge_s (local.get $q) (local.get $k)))
        (local.set $o
          (i32.add (local.get $cons) (i32.shl (i32.load offset=1208 (i32.shl (local.get $q) (i32.const 2))) (i32.const 5))))
        (if (i32.eqz (local.get $same))
          (then
            (local.set $r (i32.shl (i32.mul (i32.add (local.get $q) (i32.const 3)) (i32.const 6)) (i32.const 3)))
            (f64.store offset=512 (local.get $r) (f64.load (local.get $o)))
            (f64.store offset=520 (local.get $r) (f64.load offset=8 (local.get $o)))
            (f64.store offset=528 (local.get $r) (f64.load offset=16 (local.get $o)))
            (local.set $c (i32.const 3))
            (block $zDone
              (loop $z
                (br_if $zDone (i32.ge_s (local.get $c) (local.get $n)))
                (f64.store offset=512 (i32.add (local.get $r) (i32.shl (local.get $c) (i32.const 3))) (f64.const 0))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $z)))))
        (f64.store offset=800 (i32.shl (i32.add (local.get $q) (i32.const 3)) (i32.const 3))
          (f64.sub
            (f64.load offset=24 (local.get $o))
            (f64.add
              (f64.add
                (f64.mul (f64.load (local.get $o)) (local.get $x0))
                (f64.mul (f64.load offset=8 (local.get $o)) (local.get $x1)))
              (f64.mul (f64.load offset=16 (local.get $o)) (local.get $x2)))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $rowsQ)))
    (if (i32.eqz (local.get $same))
      (then (if (i32.eqz (call $factor (local.get $n))) (then (return (i32.const 0))))))
    (call $solve (local.get $n))
    (i32.const 1))

  ;; svi.ts activeSetQp: the primal active-set method from a = aStart, d = c = 0 on the nc rows at cons, its
  ;; solution into OUT; 0 when it does not converge.
  (func $qp (param $cons i32) (param $nc i32) (param $aStart f64) (result i32)
    (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $tol f64) (local $wn i32) (local $i i32)
    (local $sameSet i32) (local $it i32) (local $p0 f64) (local $p1 f64) (local $p2 f64) (local $size f64)
    (local $worst i32) (local $worstMu f64) (local $q i32) (local $mu f64) (local $alpha f64) (local $blocking i32)
    (local $active i32) (local $o i32) (local $cp f64) (local $step f64)
    (local.set $x0 (local.get $aStart))
    (local.set $tol (f64.mul (f64.const 1e-12) (f64.max (f64.const 1) (f64.abs (local.get $aStart)))))
    (block $initDone
      (loop $init
        (br_if $initDone (i32.ge_s (local.get $i) (local.get $nc)))
        (if (i32.and
              (f64.le
                (f64.abs (call $slack (local.get $cons) (local.get $i) (local.get $x0) (local.get $x1) (local.get $x2)))
                (local.get $tol))
              (i32.lt_s (local.get $wn) (i32.const 2)))
          (then
            (i32.store offset=1208 (i32.shl (local.get $wn) (i32.const 2)) (local.get $i))
            (local.set $wn (i32.add (local.get $wn) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $init)))
    (block $out
      (loop $iterate
        (br_if $out (i32.ge_s (local.get $it) (i32.const 200)))
        (local.set $it (i32.add (local.get $it) (i32.const 1)))
        (if (i32.eqz
              (call $kkt (local.get $cons) (local.get $wn) (local.get $x0) (local.get $x1) (local.get $x2)
                (local.get $sameSet)))
          (then (return (i32.const 0))))
        (local.set $sameSet (i32.const 1))
        ;; the step from x: the solution of the shifted system is the full step p
        (local.set $p0 (f64.load offset=848 (i32.const 0)))
        (local.set $p1 (f64.load offset=856 (i32.const 0)))
        (local.set $p2 (f64.load offset=864 (i32.const 0)))
        (local.set $size (f64.add (f64.add (f64.abs (local.get $p0)) (f64.abs (local.get $p1))) (f64.abs (local.get $p2))))
        (if (f64.le
              (local.get $size)
              (f64.mul
                (f64.const 1e-12)
                (f64.add
                  (f64.add (f64.add (f64.const 1) (f64.abs (local.get $x0))) (f64.abs (local.get $x1)))
                  (f64.abs (local.get $x2)))))
          (then
            ;; multipliers λ = −μ; all ≥ 0: optimal; else drop the most negative
            (local.set $worst (i32.const -1))
            (local.set $worstMu (f64.const 1e-14))
            (local.set $q (i32.const 0))
            (block $muDone
              (loop $mus
                (br_if $muDone (i32.ge_s (local.get $q) (local.get $wn)))
                (local.set $mu (f64.load offset=872 (i32.shl (local.get $q) (i32.const 3))))
                (if (f64.gt (local.get $mu) (local.get $worstMu))
                  (then (local.set $worstMu (local.get $mu)) (local.set $worst (local.get $q))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $mus)))
            (if (i32.lt_s (local.get $worst) (i32.const 0))
              (then
                (f64.store offset=1224 (i32.const 0) (local.get $x0))
                (f64.store offset=1232 (i32.const 0) (local.get $x1))
                (f64.store offset=1240 (i32.const 0) (local.get $x2))
                (return (i32.const 1))))
            (local.set $q (local.get $worst))
            (block $dropDone
              (loop $drop
                (br_if $dropDone (i32.ge_s (local.get $q) (i32.sub (local.get $wn) (i32.const 1))))
                (i32.store offset=1208 (i32.shl (local.get $q) (i32.const 2))
                  (i32.load offset=1212 (i32.shl (local.get $q) (i32.const 2))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $drop)))
            (local.set $wn (i32.sub (local.get $wn) (i32.const 1)))
            (local.set $sameSet (i32.const 0))
            (br $iterate)))
        (local.set $alpha (f64.const 1))
        (local.set $blocking (i32.const -1))
        (local.set $i (i32.const 0))
        (block $blockDone
          (loop $rows
            (br_if $blockDone (i32.ge_s (local.get $i) (local.get $nc)))
            (local.set $active (i32.const 0))
            (local.set $q (i32.const 0))
            (block $wDone
              (loop $w
                (br_if $wDone (i32.ge_s (local.get $q) (local.get $wn)))
                (if (i32.eq (i32.load offset=1208 (i32.shl (local.get $q) (i32.const 2))) (local.get $i))
                  (then (local.set $active (i32.const 1))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $w)))
            (if (i32.eqz (local.get $active))
              (then
                (local.set $o (i32.add (local.get $cons) (i32.shl (local.get $i) (i32.const 5))))
                (local.set $cp
                  (f64.add
                    (f64.add
                      (f64.mul (f64.load (local.get $o)) (local.get $p0))
                      (f64.mul (f64.load offset=8 (local.get $o)) (local.get $p1)))
                    (f64.mul (f64.load offset=16 (local.get $o)) (local.get $p2))))
                (if (f64.lt (local.get $cp) (f64.const -1e-300))
                  (then
                    (local.set $step
                      (f64.div
                        (f64.max
                          (call $slack (local.get $cons) (local.get $i) (local.get $x0) (local.get $x1) (local.get $x2))
                          (f64.const 0))
                        (f64.neg (local.get $cp))))
                    (if (f64.lt (local.get $step) (local.get $alpha))
                      (then (local.set $alpha (local.get $step)) (local.set $blocking (local.get $i))))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $x0 (f64.add (local.get $x0) (f64.mul (local.get $alpha) (local.get $p0))))
        (local.set $x1 (f64.add (local.get $x1) (f64.mul (local.get $alpha) (local.get $p1))))
        (local.set $x2 (f64.add (local.get $x2) (f64.mul (local.get $alpha) (local.get $p2))))
        (if (i32.ge_s (local.get $blocking) (i32.const 0))
          (then
            (if (i32.ge_s (local.get $wn) (i32.const 3)) (then (return (i32.const 0))))
            (i32.store offset=1208 (i32.shl (local.get $wn) (i32.const 2)) (local.get $blocking))
            (local.set $wn (i32.add (local.get $wn) (i32.const 1)))
            (local.set $sameSet (i32.const 0))))
        (br $iterate)))
    (i32.const 0))

  ;; $try's state across one enumeration: the best error so far, and whether a point was taken (into OUT)
  (global $bestSse (mut f64) (f64.const inf))
  (global $found (mut i32) (i32.const 0))

  ;; One active set of svi.ts enumerateQp: the KKT point of the k rows in W (from x = 0); a feasible one better than
  ;; the best so far goes into OUT; 1 when it is the optimum (its multipliers λ = −μ all ≥ 0: the search stops).
  (func $try (param $cons i32) (param $nc i32) (param $k i32) (param $sigma f64) (param $ww f64) (result i32)
    (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $scale f64) (local $i i32) (local $quad f64)
    (local $sse f64) (local $q i32) (local $kkt i32)
    (if (i32.eqz (call $kkt (local.get $cons) (local.get $k) (f64.const 0) (f64.const 0) (f64.const 0) (i32.const 0)))
      (then (return (i32.const 0))))
    (local.set $x0 (f64.load offset=848 (i32.const 0)))
    (local.set $x1 (f64.load offset=856 (i32.const 0)))
    (local.set $x2 (f64.load offset=864 (i32.const 0)))
    (local.set $scale
      (f64.mul
        (f64.max
          (f64.const 1e-12)
          (f64.add
            (f64.add (f64.add (f64.abs (local.get $x0)) (f64.abs (local.get $x1))) (f64.abs (local.get $x2)))
            (local.get $sigma)))
        (f64.const 1e-12)))
    (block $feasible
      (loop $rows
        (br_if $feasible (i32.ge_s (local.get $i) (local.get $nc)))
        (if (f64.lt
              (call $slack (local.get $cons) (local.get $i) (local.get $x0) (local.get $x1) (local.get $x2))
              (f64.neg (local.get $scale)))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    ;; x·H·x, each term as x_i·H_ij·x_j, in order
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x0) (f64.load offset=1256 (i32.const 0))) (local.get $x0))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x0) (f64.load offset=1264 (i32.const 0))) (local.get $x1))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x0) (f64.load offset=1272 (i32.const 0))) (local.get $x2))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x1) (f64.load offset=1280 (i32.const 0))) (local.get $x0))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x1) (f64.load offset=1288 (i32.const 0))) (local.get $x1))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x1) (f64.load offset=1296 (i32.const 0))) (local.get $x2))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x2) (f64.load offset=1304 (i32.const 0))) (local.get $x0))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x2) (f64.load offset=1312 (i32.const 0))) (local.get $x1))))
    (local.set $quad (f64.add (local.get $quad) (f64.mul (f64.mul (local.get $x2) (f64.load offset=1320 (i32.const 0))) (local.get $x2))))
    (local.set $sse
      (f64.max
        (f64.add
          (f64.sub
            (local.get $quad)
            (f64.mul
              (f64.const 2)
              (f64.add
                (f64.add
                  (f64.mul (f64.load offset=1328 (i32.const 0)) (local.get $x0))
                  (f64.mul (f64.load offset=1336 (i32.const 0)) (local.get $x1)))
                (f64.mul (f64.load offset=1344 (i32.const 0)) (local.get $x2)))))
          (local.get $ww))
        (f64.const 0)))
    (if (f64.lt (local.get $sse) (global.get $bestSse))
      (then
        (global.set $bestSse (local.get $sse))
        (global.set $found (i32.const 1))
        (f64.store offset=1224 (i32.const 0) (local.get $x0))
        (f64.store offset=1232 (i32.const 0) (local.get $x1))
        (f64.store offset=1240 (i32.const 0) (local.get $x2))))
    (local.set $kkt (i32.const 1))
    (block $musDone
      (loop $mus
        (br_if $musDone (i32.ge_s (local.get $q) (local.get $k)))
        (if (f64.gt (f64.load offset=872 (i32.shl (local.get $q) (i32.const 3))) (f64.const 1e-13))
          (then (local.set $kkt (i32.const 0))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $mus)))
    (if (local.get $kkt)
      (then
        (global.set $found (i32.const 1))
        (f64.store offset=1224 (i32.const 0) (local.get $x0))
        (f64.store offset=1232 (i32.const 0) (local.get $x1))
        (f64.store offset=1240 (i32.const 0) (local.get $x2))))
    (local.get $kkt))

  ;; svi.ts enumerateQp: every active set of at most three of the nc rows, in svi.ts activeSets' order (none; then
  ;; for each i: {i}, and for each j > i: {i, j}, then {i, j, k} for each k > j), the best feasible KKT point into OUT;
  ;; 0 when none is feasible.
  (func $enumerate (param $cons i32) (param $nc i32) (param $sigma f64) (param $ww f64) (result i32)
    (local $i i32) (local $j i32) (local $k i32)
    (global.set $bestSse (f64.const inf))
    (global.set $found (i32.const 0))
    (block $done
      (br_if $done (call $try (local.get $cons) (local.get $nc) (i32.const 0) (local.get $sigma) (local.get $ww)))
      (loop $is
        (br_if $done (i32.ge_s (local.get $i) (local.get $nc)))
        (i32.store offset=1208 (i32.const 0) (local.get $i))
        (br_if $done (call $try (local.get $cons) (local.get $nc) (i32.const 1) (local.get $sigma) (local.get $ww)))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (loop $js
          (if (i32.lt_s (local.get $j) (local.get $nc))
            (then
              (i32.store offset=1208 (i32.const 0) (local.get $i))
              (i32.store offset=1212 (i32.const 0) (local.get $j))
              (br_if $done
                (call $try (local.get $cons) (local.get $nc) (i32.const 2) (local.get $sigma) (local.get $ww)))
              (local.set $k (i32.add (local.get $j) (i32.const 1)))
              (loop $ks
                (if (i32.lt_s (local.get $k) (local.get $nc))
                  (then
                    (i32.store offset=1208 (i32.const 0) (local.get $i))
                    (i32.store offset=1212 (i32.const 0) (local.get $j))
                    (i32.store offset=1216 (i32.const 0) (local.get $k))
                    (br_if $done
                      (call $try (local.get $cons) (local.get $nc) (i32.const 3) (local.get $sigma) (local.get $ww)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $ks))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $js))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $is)))
    (global.get $found))

  ;; svi.ts innerError: the inner problem at (m, σ) over the np quotes and nf floors in memory (nc0 static rows in
  ;; CONST), its solution (a, d, c) and the weighted squared error of that solution into OUT; returns 1 when the
  ;; active-set method solved it, 2 when the active sets were enumerated (the method did not converge, or
  ;; enumerateOnly ≠ 0), 0 when neither gives a solution.
  (func (export "inner")
    (param $np i32) (param $nf i32) (param $nc0 i32) (param $m f64) (param $sigma f64) (param $aStart f64)
    (param $enumerateOnly i32) (result i32)
    (local $ww f64) (local $how i32)
    (local $pts i32) (local $flr i32) (local $ya i32) (local $za i32) (local $cons i32) (local $i i32) (local $p i32)
    (local $y f64) (local $z f64) (local $wt f64) (local $w f64) (local $wtw f64)
    (local $h00 f64) (local $h01 f64) (local $h02 f64) (local $h10 f64) (local $h11 f64) (local $h12 f64)
    (local $h20 f64) (local $h21 f64) (local $h22 f64) (local $g0 f64) (local $g1 f64) (local $g2 f64)
    (local $o i32) (local $a f64) (local $d f64) (local $c f64) (local $r f64) (local $sse f64)
    (local.set $pts (i32.const 1352))
    (local.set $flr (i32.add (local.get $pts) (i32.mul (local.get $np) (i32.const 24))))
    (local.set $ya (i32.add (local.get $flr) (i32.shl (local.get $nf) (i32.const 4))))
    (local.set $za (i32.add (local.get $ya) (i32.shl (local.get $np) (i32.const 3))))
    (local.set $cons (i32.add (local.get $za) (i32.shl (local.get $np) (i32.const 3))))
    ;; svi.ts moments: v = (1, y, z); each term as weight·v_i·v_j, left to right
    (block $momentsDone
      (loop $moments
        (br_if $momentsDone (i32.ge_s (local.get $i) (local.get $np)))
        (local.set $p (i32.add (local.get $pts) (i32.mul (local.get $i) (i32.const 24))))
        (local.set $y (f64.div (f64.sub (f64.load (local.get $p)) (local.get $m)) (local.get $sigma)))
        (local.set $z (f64.sqrt (f64.add (f64.mul (local.get $y) (local.get $y)) (f64.const 1))))
        (f64.store (i32.add (local.get $ya) (i32.shl (local.get $i) (i32.const 3))) (local.get $y))
        (f64.store (i32.add (local.get $za) (i32.shl (local.get $i) (i32.const 3))) (local.get $z))
        (local.set $w (f64.load offset=8 (local.get $p)))
        (local.set $wt (f64.load offset=16 (local.get $p)))
        (local.set $wtw (f64.mul (local.get $wt) (local.get $w)))
        (local.set $g0 (f64.add (local.get $g0) (f64.mul (local.get $wtw) (f64.const 1))))
        (local.set $g1 (f64.add (local.get $g1) (f64.mul (local.get $wtw) (local.get $y))))
        (local.set $g2 (f64.add (local.get $g2) (f64.mul (local.get $wtw) (local.get $z))))
        (local.set $h00 (f64.add (local.get $h00) (f64.mul (f64.mul (local.get $wt) (f64.const 1)) (f64.const 1))))
        (local.set $h01 (f64.add (local.get $h01) (f64.mul (f64.mul (local.get $wt) (f64.const 1)) (local.get $y))))
        (local.set $h02 (f64.add (local.get $h02) (f64.mul (f64.mul (local.get $wt) (f64.const 1)) (local.get $z))))
        (local.set $h10 (f64.add (local.get $h10) (f64.mul (f64.mul (local.get $wt) (local.get $y)) (f64.const 1))))
        (local.set $h11 (f64.add (local.get $h11) (f64.mul (f64.mul (local.get $wt) (local.get $y)) (local.get $y))))
        (local.set $h12 (f64.add (local.get $h12) (f64.mul (f64.mul (local.get $wt) (local.get $y)) (local.get $z))))
        (local.set $h20 (f64.add (local.get $h20) (f64.mul (f64.mul (local.get $wt) (local.get $z)) (f64.const 1))))
        (local.set $h21 (f64.add (local.get $h21) (f64.mul (f64.mul (local.get $wt) (local.get $z)) (local.get $y))))
        (local.set $h22 (f64.add (local.get $h22) (f64.mul (f64.mul (local.get $wt) (local.get $z)) (local.get $z))))
        (local.set $ww (f64.add (local.get $ww) (f64.mul (local.get $wtw) (local.get $w))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $moments)))
    (f64.store offset=1256 (i32.const 0) (local.get $h00))
    (f64.store offset=1264 (i32.const 0) (local.get $h01))
    (f64.store offset=1272 (i32.const 0) (local.get $h02))
    (f64.store offset=1280 (i32.const 0) (local.get $h10))
    (f64.store offset=1288 (i32.const 0) (local.get $h11))
    (f64.store offset=1296 (i32.const 0) (local.get $h12))
    (f64.store offset=1304 (i32.const 0) (local.get $h20))
    (f64.store offset=1312 (i32.const 0) (local.get $h21))
    (f64.store offset=1320 (i32.const 0) (local.get $h22))
    (f64.store offset=1328 (i32.const 0) (local.get $g0))
    (f64.store offset=1336 (i32.const 0) (local.get $g1))
    (f64.store offset=1344 (i32.const 0) (local.get $g2))
    ;; svi.ts constraintRows: the static rows with their right-hand side k·σ, then one row per floor
    (local.set $i (i32.const 0))
    (block $staticDone
      (loop $static
        (br_if $staticDone (i32.ge_s (local.get $i) (local.get $nc0)))
        (local.set $o (i32.shl (local.get $i) (i32.const 5)))
        (f64.store (i32.add (local.get $cons) (local.get $o)) (f64.load (local.get $o)))
        (f64.store offset=8 (i32.add (local.get $cons) (local.get $o)) (f64.load offset=8 (local.get $o)))
        (f64.store offset=16 (i32.add (local.get $cons) (local.get $o)) (f64.load offset=16 (local.get $o)))
        (f64.store offset=24 (i32.add (local.get $cons) (local.get $o))
          (f64.mul (f64.load offset=24 (local.get $o)) (local.get $sigma)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $static)))
    (local.set $i (i32.const 0))
    (block $floorsDone
      (loop $floors
        (br_if $floorsDone (i32.ge_s (local.get $i) (local.get $nf)))
        (local.set $p (i32.add (local.get $flr) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $o (i32.add (local.get $cons) (i32.shl (i32.add (local.get $nc0) (local.get $i)) (i32.const 5))))
        (local.set $y (f64.div (f64.sub (f64.load (local.get $p)) (local.get $m)) (local.get $sigma)))
        (f64.store (local.get $o) (f64.const 1))
        (f64.store offset=8 (local.get $o) (local.get $y))
        (f64.store offset=16 (local.get $o) (f64.sqrt (f64.add (f64.mul (local.get $y) (local.get $y)) (f64.const 1))))
        (f64.store offset=24 (local.get $o) (f64.load offset=8 (local.get $p)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $floors)))
    ;; the active-set method (unless told to enumerate), else every active set
    (local.set $how (i32.const 1))
    (if (local.get $enumerateOnly)
      (then (local.set $how (i32.const 2)))
      (else
        (if (i32.eqz (call $qp (local.get $cons) (i32.add (local.get $nc0) (local.get $nf)) (local.get $aStart)))
          (then (local.set $how (i32.const 2))))))
    (if (i32.eq (local.get $how) (i32.const 2))
      (then
        (if (i32.eqz
              (call $enumerate (local.get $cons) (i32.add (local.get $nc0) (local.get $nf)) (local.get $sigma)
                (local.get $ww)))
          (then (return (i32.const 0))))))
    ;; the error recomputed from the residuals: the moment form above cancels near a perfect fit
    (local.set $a (f64.load offset=1224 (i32.const 0)))
    (local.set $d (f64.load offset=1232 (i32.const 0)))
    (local.set $c (f64.load offset=1240 (i32.const 0)))
    (local.set $i (i32.const 0))
    (block $sseDone
      (loop $sse
        (br_if $sseDone (i32.ge_s (local.get $i) (local.get $np)))
        (local.set $p (i32.add (local.get $pts) (i32.mul (local.get $i) (i32.const 24))))
        (local.set $r
          (f64.sub
            (f64.add
              (f64.add
                (local.get $a)
                (f64.mul (local.get $d) (f64.load (i32.add (local.get $ya) (i32.shl (local.get $i) (i32.const 3))))))
              (f64.mul (local.get $c) (f64.load (i32.add (local.get $za) (i32.shl (local.get $i) (i32.const 3))))))
            (f64.load offset=8 (local.get $p))))
        (local.set $sse
          (f64.add (local.get $sse) (f64.mul (f64.mul (f64.load offset=16 (local.get $p)) (local.get $r)) (local.get $r))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sse)))
    (f64.store offset=1248 (i32.const 0) (local.get $sse))
    (local.get $how))
)
