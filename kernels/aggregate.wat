;; The cpu aggregation's inner loop as WebAssembly SIMD (f64x2): one scenario block of a range of groups.
;; Compiled to dist/kernels/aggregate.wasm by `npm run build` (scripts/build-wasm.mjs, the wabt package);
;; driven by kernels/aggregateWasm.ts, which copies the block of the P&L matrix and the groups' entries into
;; this module's memory. The arithmetic is aggregateGroups' (kernels/aggregate.ts), operation for operation:
;; the two lanes of an f64x2 are two scenarios, so each scenario's sums run in the same order as the scalar
;; JavaScript loop and give the same bits (no fused multiply-add: f64x2.mul then f64x2.add, each rounded).
;;
;; Memory (byte addresses given by the caller, each 16-byte aligned):
;;   pnl     f64 [rowIndex * stride + s]   the block's columns s < n of every row the groups use; when n is
;;                                         odd, column n is 0 (the second lane of the last pair reads it)
;;   gStart  i32 [g], g ≤ nG               entries of group g: [gStart[g], gStart[g+1])
;;   eRow    i32 [e]                       the entry's row index into pnl
;;   eQty    f64 [e]
;;   eBucket i32 [e]
;;   weight  f64 [b * S + s]               transposed (wStride = S · 8 bytes per bucket), s over the whole
;;                                         set (s0 + block scenario); read in pairs, one past the end too
;;   acc     f64 [b * stride + s]          0 on entry; the combining pass zeroes what it reads
;;   worst   f64 [g], at i32 [g]           the running worst loss and its first scenario (−1: none yet)
;;   top     f64 [g * K + j]               per group a min-heap of the K largest losses so far
;;   skip    u8 [s0 + s]                   1: scenario s0 + s was offered to the heaps already (a pilot pass,
;;                                         kernels/aggregateWasm.ts), so it counts for the worst loss only
(module
  (memory (export "memory") 1)

  ;; kernels/aggregate.ts heapReplaceRoot: the heap of k values at byte address h, its root replaced by x
  (func $heapReplaceRoot (param $h i32) (param $k i32) (param $x f64)
    (local $i i32) (local $l i32) (local $r i32) (local $m i32)
    (block $done
      (loop $down
        (local.set $l (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
        (br_if $done (i32.ge_s (local.get $l) (local.get $k)))
        (local.set $r (i32.add (local.get $l) (i32.const 1)))
        (local.set $m (local.get $l))
        (if (i32.lt_s (local.get $r) (local.get $k))
          (then
            (if (f64.lt
                  (f64.load (i32.add (local.get $h) (i32.shl (local.get $r) (i32.const 3))))
                  (f64.load (i32.add (local.get $h) (i32.shl (local.get $l) (i32.const 3)))))
              (then (local.set $m (local.get $r))))))
        (br_if $done
          (f64.ge (f64.load (i32.add (local.get $h) (i32.shl (local.get $m) (i32.const 3)))) (local.get $x)))
        (f64.store (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))
          (f64.load (i32.add (local.get $h) (i32.shl (local.get $m) (i32.const 3)))))
        (local.set $i (local.get $m))
        (br $down)))
    (f64.store (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3))) (local.get $x)))

  ;; The run aggregateGroups takes at entry e of bucket b (entries before e1): 4 when four consecutive entries
  ;; are of bucket b, 2 when two or three, 1 when one, 0 when entry e is not of bucket b (or is e1).
  (func $runAt (param $eBucket i32) (param $e i32) (param $e1 i32) (param $b i32) (result i32)
    (local $r i32)
    (block $done
      (loop $count
        (br_if $done (i32.ge_s (local.get $r) (i32.const 4)))
        (br_if $done (i32.ge_s (i32.add (local.get $e) (local.get $r)) (local.get $e1)))
        (br_if $done
          (i32.ne
            (i32.load (i32.add (local.get $eBucket) (i32.shl (i32.add (local.get $e) (local.get $r)) (i32.const 2))))
            (local.get $b)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $count)))
    (if (result i32) (i32.eq (local.get $r) (i32.const 4))
      (then (i32.const 4))
      (else (if (result i32) (i32.ge_s (local.get $r) (i32.const 2)) (then (i32.const 2)) (else (local.get $r))))))

  ;; One scenario block [s0, s0 + n) of groups [0, nG): the bucket sums of every group (entries in entry
  ;; order, up to four consecutive entries of one bucket summed as ((a + b) + (c + d)) before they join
  ;; the accumulator), then per scenario the buckets combined, the worst loss and the k largest.
  ;; `every` ≠ 0 combines those buckets whatever the entries touch (aggregateGroups' `every`).
  (func (export "aggregateBlock")
    (param $nG i32) (param $n i32) (param $stride i32) (param $s0 i32) (param $B i32) (param $off f64)
    (param $K i32) (param $every i32)
    (param $pnl i32) (param $gStart i32) (param $eRow i32) (param $eQty i32) (param $eBucket i32)
    (param $weight i32) (param $wStride i32) (param $acc i32) (param $worst i32) (param $at i32) (param $top i32)
    (param $skip i32)
    (local $rowBytes i32) (local $end i32) (local $g i32) (local $e i32) (local $e1 i32) (local $b i32)
    (local $mask i32) (local $run i32) (local $o i32) (local $j i32)
    (local $run2 i32) (local $rowsAt i32) (local $qtysAt i32)
    (local $pa i32) (local $pb i32) (local $pc i32) (local $pd i32)
    (local $pe i32) (local $pf i32) (local $pg i32) (local $ph i32)
    (local $qa v128) (local $qb v128) (local $qc v128) (local $qd v128)
    (local $qe v128) (local $qf v128) (local $qg v128) (local $qh v128)
    (local $s i32) (local $loss f64) (local $w f64) (local $atv i32)
    (local $h i32) (local $wb i32) (local $ob i32)
    (local $tv v128) (local $xv v128) (local $lv v128) (local $offv v128) (local $single i32) (local $wo i32)
    (local $thrv v128) (local $plain i32)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 3)))
    (local.set $offv (f64x2.splat (local.get $off)))
    ;; an offset of exactly 1 makes adj the identity, bit for bit (1·x = x, and x is a product: a quiet NaN stays
    ;; itself): one bucket with it takes the short combining loop below
    (local.set $plain (f64.eq (local.get $off) (f64.const 1)))
    ;; bytes of the scenario pairs: ceil(n / 2) · 16
    (local.set $end (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 1)) (i32.const 1)) (i32.const 4)))
    (local.set $g (i32.const 0))
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.ge_s (local.get $g) (local.get $nG)))
        (local.set $e (i32.load (i32.add (local.get $gStart) (i32.shl (local.get $g) (i32.const 2)))))
        (local.set $e1
          (i32.load (i32.add (local.get $gStart) (i32.shl (i32.add (local.get $g) (i32.const 1)) (i32.const 2)))))
        (local.set $mask (i32.const 0))
        ;; ---- the bucket sums ----
        ;; Entries in entry order, cut as aggregateGroups cuts them: runs of up to four consecutive entries of one
        ;; bucket (four; two when two or three; one), each run summed before it joins the accumulator. Two runs of
        ;; one bucket in a row share a pass (the accumulator stays in a register between them: the same additions
        ;; in the same order as two passes).
        (block $entriesDone
          (loop $entries
            (br_if $entriesDone (i32.ge_s (local.get $e) (local.get $e1)))
            (local.set $b (i32.load (i32.add (local.get $eBucket) (i32.shl (local.get $e) (i32.const 2)))))
            (local.set $mask (i32.or (local.get $mask) (i32.shl (i32.const 1) (local.get $b))))
            (local.set $o (i32.add (local.get $acc) (i32.mul (local.get $b) (local.get $rowBytes))))
            (local.set $run (call $runAt (local.get $eBucket) (local.get $e) (local.get $e1) (local.get $b)))
            (local.set $run2
              (if (result i32) (i32.gt_s (local.get $run) (i32.const 1))
                (then (call $runAt (local.get $eBucket) (i32.add (local.get $e) (local.get $run)) (local.get $e1) (local.get $b)))
                (else (i32.const 0))))
            (local.set $rowsAt (i32.add (local.get $eRow) (i32.shl (local.get $e) (i32.const 2))))
            (local.set $qtysAt (i32.add (local.get $eQty) (i32.shl (local.get $e) (i32.const 3))))
            (if (i32.eq (local.get $run) (i32.const 4))
              (then
                (if (i32.eq (local.get $run2) (i32.const 4))
                  (then
                    (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                    (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                    (local.set $pc (i32.add (local.get $pnl) (i32.mul (i32.load offset=8 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qc (f64x2.splat (f64.load offset=16 (local.get $qtysAt))))
                    (local.set $pd (i32.add (local.get $pnl) (i32.mul (i32.load offset=12 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qd (f64x2.splat (f64.load offset=24 (local.get $qtysAt))))
                    (local.set $pe (i32.add (local.get $pnl) (i32.mul (i32.load offset=16 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qe (f64x2.splat (f64.load offset=32 (local.get $qtysAt))))
                    (local.set $pf (i32.add (local.get $pnl) (i32.mul (i32.load offset=20 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qf (f64x2.splat (f64.load offset=40 (local.get $qtysAt))))
                    (local.set $pg (i32.add (local.get $pnl) (i32.mul (i32.load offset=24 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qg (f64x2.splat (f64.load offset=48 (local.get $qtysAt))))
                    (local.set $ph (i32.add (local.get $pnl) (i32.mul (i32.load offset=28 (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qh (f64x2.splat (f64.load offset=56 (local.get $qtysAt))))
                    (local.set $j (i32.const 0))
                    (loop $pass44
                      ;; acc = (acc + ((qa·pa + qb·pb) + (qc·pc + qd·pd))) + ((qe·pe + qf·pf) + (qg·pg + qh·ph))
                      (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j))))) (f64x2.add (f64x2.mul (local.get $qc) (v128.load (i32.add (local.get $pc) (local.get $j)))) (f64x2.mul (local.get $qd) (v128.load (i32.add (local.get $pd) (local.get $j))))))) (f64x2.add (f64x2.add (f64x2.mul (local.get $qe) (v128.load (i32.add (local.get $pe) (local.get $j)))) (f64x2.mul (local.get $qf) (v128.load (i32.add (local.get $pf) (local.get $j))))) (f64x2.add (f64x2.mul (local.get $qg) (v128.load (i32.add (local.get $pg) (local.get $j)))) (f64x2.mul (local.get $qh) (v128.load (i32.add (local.get $ph) (local.get $j))))))))
                      (local.set $j (i32.add (local.get $j) (i32.const 16)))
                      (br_if $pass44 (i32.lt_u (local.get $j) (local.get $end)))))
                  (else
                    (if (i32.eq (local.get $run2) (i32.const 2))
                      (then
                        (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                        (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                        (local.set $pc (i32.add (local.get $pnl) (i32.mul (i32.load offset=8 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qc (f64x2.splat (f64.load offset=16 (local.get $qtysAt))))
                        (local.set $pd (i32.add (local.get $pnl) (i32.mul (i32.load offset=12 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qd (f64x2.splat (f64.load offset=24 (local.get $qtysAt))))
                        (local.set $pe (i32.add (local.get $pnl) (i32.mul (i32.load offset=16 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qe (f64x2.splat (f64.load offset=32 (local.get $qtysAt))))
                        (local.set $pf (i32.add (local.get $pnl) (i32.mul (i32.load offset=20 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qf (f64x2.splat (f64.load offset=40 (local.get $qtysAt))))
                        (local.set $j (i32.const 0))
                        (loop $pass42
                          ;; acc = (acc + ((qa·pa + qb·pb) + (qc·pc + qd·pd))) + (qe·pe + qf·pf)
                          (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j))))) (f64x2.add (f64x2.mul (local.get $qc) (v128.load (i32.add (local.get $pc) (local.get $j)))) (f64x2.mul (local.get $qd) (v128.load (i32.add (local.get $pd) (local.get $j))))))) (f64x2.add (f64x2.mul (local.get $qe) (v128.load (i32.add (local.get $pe) (local.get $j)))) (f64x2.mul (local.get $qf) (v128.load (i32.add (local.get $pf) (local.get $j)))))))
                          (local.set $j (i32.add (local.get $j) (i32.const 16)))
                          (br_if $pass42 (i32.lt_u (local.get $j) (local.get $end)))))
                      (else
                        (if (i32.eq (local.get $run2) (i32.const 1))
                          (then
                            (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                            (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                            (local.set $pc (i32.add (local.get $pnl) (i32.mul (i32.load offset=8 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qc (f64x2.splat (f64.load offset=16 (local.get $qtysAt))))
                            (local.set $pd (i32.add (local.get $pnl) (i32.mul (i32.load offset=12 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qd (f64x2.splat (f64.load offset=24 (local.get $qtysAt))))
                            (local.set $pe (i32.add (local.get $pnl) (i32.mul (i32.load offset=16 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qe (f64x2.splat (f64.load offset=32 (local.get $qtysAt))))
                            (local.set $j (i32.const 0))
                            (loop $pass41
                              ;; acc = (acc + ((qa·pa + qb·pb) + (qc·pc + qd·pd))) + (qe·pe)
                              (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j))))) (f64x2.add (f64x2.mul (local.get $qc) (v128.load (i32.add (local.get $pc) (local.get $j)))) (f64x2.mul (local.get $qd) (v128.load (i32.add (local.get $pd) (local.get $j))))))) (f64x2.mul (local.get $qe) (v128.load (i32.add (local.get $pe) (local.get $j))))))
                              (local.set $j (i32.add (local.get $j) (i32.const 16)))
                              (br_if $pass41 (i32.lt_u (local.get $j) (local.get $end)))))
                          (else
                            (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                            (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                            (local.set $pc (i32.add (local.get $pnl) (i32.mul (i32.load offset=8 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qc (f64x2.splat (f64.load offset=16 (local.get $qtysAt))))
                            (local.set $pd (i32.add (local.get $pnl) (i32.mul (i32.load offset=12 (local.get $rowsAt)) (local.get $rowBytes))))
                            (local.set $qd (f64x2.splat (f64.load offset=24 (local.get $qtysAt))))
                            (local.set $j (i32.const 0))
                            (loop $pass4
                              ;; acc = acc + ((qa·pa + qb·pb) + (qc·pc + qd·pd))
                              (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j))))) (f64x2.add (f64x2.mul (local.get $qc) (v128.load (i32.add (local.get $pc) (local.get $j)))) (f64x2.mul (local.get $qd) (v128.load (i32.add (local.get $pd) (local.get $j))))))))
                              (local.set $j (i32.add (local.get $j) (i32.const 16)))
                              (br_if $pass4 (i32.lt_u (local.get $j) (local.get $end)))))))))))
              (else
                (if (i32.eq (local.get $run) (i32.const 2))
                  (then
                    (if (local.get $run2)
                      (then
                        (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                        (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                        (local.set $pc (i32.add (local.get $pnl) (i32.mul (i32.load offset=8 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qc (f64x2.splat (f64.load offset=16 (local.get $qtysAt))))
                        (local.set $j (i32.const 0))
                        (loop $pass21
                          ;; acc = (acc + (qa·pa + qb·pb)) + (qc·pc)
                          (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j)))))) (f64x2.mul (local.get $qc) (v128.load (i32.add (local.get $pc) (local.get $j))))))
                          (local.set $j (i32.add (local.get $j) (i32.const 16)))
                          (br_if $pass21 (i32.lt_u (local.get $j) (local.get $end)))))
                      (else
                        (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                        (local.set $pb (i32.add (local.get $pnl) (i32.mul (i32.load offset=4 (local.get $rowsAt)) (local.get $rowBytes))))
                        (local.set $qb (f64x2.splat (f64.load offset=8 (local.get $qtysAt))))
                        (local.set $j (i32.const 0))
                        (loop $pass2
                          ;; acc = acc + (qa·pa + qb·pb)
                          (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.add (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j)))) (f64x2.mul (local.get $qb) (v128.load (i32.add (local.get $pb) (local.get $j)))))))
                          (local.set $j (i32.add (local.get $j) (i32.const 16)))
                          (br_if $pass2 (i32.lt_u (local.get $j) (local.get $end)))))))
                  (else
                    (local.set $pa (i32.add (local.get $pnl) (i32.mul (i32.load (local.get $rowsAt)) (local.get $rowBytes))))
                    (local.set $qa (f64x2.splat (f64.load (local.get $qtysAt))))
                    (local.set $j (i32.const 0))
                    (loop $pass1
                      ;; acc = acc + (qa·pa)
                      (v128.store (i32.add (local.get $o) (local.get $j)) (f64x2.add (v128.load (i32.add (local.get $o) (local.get $j))) (f64x2.mul (local.get $qa) (v128.load (i32.add (local.get $pa) (local.get $j))))))
                      (local.set $j (i32.add (local.get $j) (i32.const 16)))
                      (br_if $pass1 (i32.lt_u (local.get $j) (local.get $end))))))))
            (local.set $e (i32.add (local.get $e) (i32.add (local.get $run) (local.get $run2))))
            (br $entries)))
        (if (local.get $every) (then (local.set $mask (local.get $every))))
        ;; ---- combine the buckets per pair of scenarios; the worst loss and the k largest ----
        ;; One bucket: loss = 0 − adj(weight · sum); more: loss = 0 − p, p = +0 + Σ_b adj(weight · sum_b) over
        ;; the mask's buckets in ascending order (aggregateGroups' two paths); adj(x) = x < 0 ? x : off·x without
        ;; a branch (bitselect). Then, in scenario order, the worst loss (the first scenario on a tie, any while
        ;; none is recorded) and the heap, as aggregateGroups does, unless skip says the scenario has been offered
        ;; to the heap (then the worst loss only). A pair is passed when neither loss beats the threshold: when
        ;; k > 0 the smaller of the heap's root and the worst loss (without a pilot the root is never above the
        ;; worst: the heap holds losses seen and the worst is their maximum; after a pilot it can be; a NaN worst
        ;; never changes again, so then the root), else the worst loss.
        (local.set $w (f64.load (i32.add (local.get $worst) (i32.shl (local.get $g) (i32.const 3)))))
        (local.set $atv (i32.load (i32.add (local.get $at) (i32.shl (local.get $g) (i32.const 2)))))
        (local.set $h (i32.add (local.get $top) (i32.shl (i32.mul (local.get $g) (local.get $K)) (i32.const 3))))
        (local.set $single
          (i32.and
            (i32.ne (local.get $mask) (i32.const 0))
            (i32.eqz (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))))
        (if (local.get $single)
          (then
            (local.set $b (i32.ctz (local.get $mask)))
            (local.set $o (i32.add (local.get $acc) (i32.mul (local.get $b) (local.get $rowBytes))))
            (local.set $wo
              (i32.add
                (i32.add (local.get $weight) (i32.mul (local.get $b) (local.get $wStride)))
                (i32.shl (local.get $s0) (i32.const 3))))))
        (local.set $j (i32.const 0))
        ;; One bucket and an offset of 1 (var's groups): loss = 0 − weight · sum, and the threshold a pair must beat
        ;; (the general loop's, below) kept in a register and recomputed only when the worst loss or the heap
        ;; changes. The same operations on the same values as the general loop, so the same bits.
        (if (i32.and (local.get $single) (local.get $plain))
          (then
            (local.set $thrv
              (f64x2.splat
                (if (result f64) (i32.gt_s (local.get $K) (i32.const 0))
                  (then
                    (select (local.get $w) (f64.load (local.get $h))
                      (f64.lt (local.get $w) (f64.load (local.get $h)))))
                  (else (local.get $w)))))
            (block $fastDone
              (loop $fast
                (br_if $fastDone (i32.ge_u (local.get $j) (local.get $end)))
                (local.set $lv
                  (f64x2.sub (v128.const f64x2 0 0)
                    (f64x2.mul
                      (v128.load (i32.add (local.get $wo) (local.get $j)))
                      (v128.load (i32.add (local.get $o) (local.get $j))))))
                (v128.store (i32.add (local.get $o) (local.get $j)) (v128.const f64x2 0 0))
                (if (i32.or (i32.lt_s (local.get $atv) (i32.const 0)) (v128.any_true (f64x2.gt (local.get $lv) (local.get $thrv))))
                  (then
                    (local.set $s (i32.shr_u (local.get $j) (i32.const 3)))
                    (local.set $loss (f64x2.extract_lane 0 (local.get $lv)))
                    (if (i32.or (f64.gt (local.get $loss) (local.get $w)) (i32.lt_s (local.get $atv) (i32.const 0)))
                      (then
                        (local.set $w (local.get $loss))
                        (local.set $atv (i32.add (local.get $s0) (local.get $s)))))
                    (if (i32.gt_s (local.get $K) (i32.const 0))
                      (then
                        (if (i32.and
                              (f64.gt (local.get $loss) (f64.load (local.get $h)))
                              (i32.eqz (i32.load8_u (i32.add (local.get $skip) (i32.add (local.get $s0) (local.get $s))))))
                          (then (call $heapReplaceRoot (local.get $h) (local.get $K) (local.get $loss))))))
                    (if (i32.lt_s (i32.add (local.get $s) (i32.const 1)) (local.get $n))
                      (then
                        (local.set $loss (f64x2.extract_lane 1 (local.get $lv)))
                        (if (i32.or (f64.gt (local.get $loss) (local.get $w)) (i32.lt_s (local.get $atv) (i32.const 0)))
                          (then
                            (local.set $w (local.get $loss))
                            (local.set $atv (i32.add (local.get $s0) (i32.add (local.get $s) (i32.const 1))))))
                        (if (i32.gt_s (local.get $K) (i32.const 0))
                          (then
                            (if (i32.and
                                  (f64.gt (local.get $loss) (f64.load (local.get $h)))
                                  (i32.eqz
                                    (i32.load8_u offset=1 (i32.add (local.get $skip) (i32.add (local.get $s0) (local.get $s))))))
                              (then (call $heapReplaceRoot (local.get $h) (local.get $K) (local.get $loss))))))))
                    (local.set $thrv
                      (f64x2.splat
                        (if (result f64) (i32.gt_s (local.get $K) (i32.const 0))
                          (then
                            (select (local.get $w) (f64.load (local.get $h))
                              (f64.lt (local.get $w) (f64.load (local.get $h)))))
                          (else (local.get $w)))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $fast)))))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_u (local.get $j) (local.get $end)))
            (if (local.get $single)
              (then
                (local.set $xv
                  (f64x2.mul
                    (v128.load (i32.add (local.get $wo) (local.get $j)))
                    (v128.load (i32.add (local.get $o) (local.get $j)))))
                (v128.store (i32.add (local.get $o) (local.get $j)) (v128.const f64x2 0 0))
                (local.set $lv
                  (f64x2.sub (v128.const f64x2 0 0)
                    (v128.bitselect (local.get $xv) (f64x2.mul (local.get $offv) (local.get $xv))
                      (f64x2.lt (local.get $xv) (v128.const f64x2 0 0))))))
              (else
                (local.set $tv (v128.const f64x2 0 0))
                (local.set $ob (i32.add (local.get $acc) (local.get $j)))
                (local.set $wb
                  (i32.add (i32.add (local.get $weight) (i32.shl (local.get $s0) (i32.const 3))) (local.get $j)))
                (local.set $b (i32.const 0))
                (block $bucketsDone
                  (loop $buckets
                    (br_if $bucketsDone (i32.ge_s (local.get $b) (local.get $B)))
                    (if (i32.and (i32.shr_u (local.get $mask) (local.get $b)) (i32.const 1))
                      (then
                        (local.set $xv (f64x2.mul (v128.load (local.get $wb)) (v128.load (local.get $ob))))
                        (v128.store (local.get $ob) (v128.const f64x2 0 0))
                        (local.set $tv
                          (f64x2.add (local.get $tv)
                            (v128.bitselect (local.get $xv) (f64x2.mul (local.get $offv) (local.get $xv))
                              (f64x2.lt (local.get $xv) (v128.const f64x2 0 0)))))))
                    (local.set $ob (i32.add (local.get $ob) (local.get $rowBytes)))
                    (local.set $wb (i32.add (local.get $wb) (local.get $wStride)))
                    (local.set $b (i32.add (local.get $b) (i32.const 1)))
                    (br $buckets)))
                (local.set $lv (f64x2.sub (v128.const f64x2 0 0) (local.get $tv)))))
            (if (i32.or (i32.lt_s (local.get $atv) (i32.const 0))
                  (v128.any_true
                    (f64x2.gt (local.get $lv)
                      (f64x2.splat
                        (if (result f64) (i32.gt_s (local.get $K) (i32.const 0))
                          (then
                            (select (local.get $w) (f64.load (local.get $h))
                              (f64.lt (local.get $w) (f64.load (local.get $h)))))
                          (else (local.get $w)))))))
              (then
                (local.set $s (i32.shr_u (local.get $j) (i32.const 3)))
                    (local.set $loss (f64x2.extract_lane 0 (local.get $lv)))
                    (if (i32.or (f64.gt (local.get $loss) (local.get $w)) (i32.lt_s (local.get $atv) (i32.const 0)))
                      (then
                        (local.set $w (local.get $loss))
                        (local.set $atv (i32.add (local.get $s0) (local.get $s)))))
                    (if (i32.gt_s (local.get $K) (i32.const 0))
                      (then
                        (if (i32.and
                              (f64.gt (local.get $loss) (f64.load (local.get $h)))
                              (i32.eqz (i32.load8_u (i32.add (local.get $skip) (i32.add (local.get $s0) (local.get $s))))))
                          (then (call $heapReplaceRoot (local.get $h) (local.get $K) (local.get $loss))))))
                (if (i32.lt_s (i32.add (local.get $s) (i32.const 1)) (local.get $n))
                  (then
                    (local.set $loss (f64x2.extract_lane 1 (local.get $lv)))
                    (if (i32.or (f64.gt (local.get $loss) (local.get $w)) (i32.lt_s (local.get $atv) (i32.const 0)))
                      (then
                        (local.set $w (local.get $loss))
                        (local.set $atv (i32.add (local.get $s0) (i32.add (local.get $s) (i32.const 1))))))
                    (if (i32.gt_s (local.get $K) (i32.const 0))
                      (then
                        (if (i32.and
                              (f64.gt (local.get $loss) (f64.load (local.get $h)))
                              (i32.eqz
                                (i32.load8_u offset=1 (i32.add (local.get $skip) (i32.add (local.get $s0) (local.get $s))))))
                          (then (call $heapReplaceRoot (local.get $h) (local.get $K) (local.get $loss))))))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $pairs)))
        (f64.store (i32.add (local.get $worst) (i32.shl (local.get $g) (i32.const 3))) (local.get $w))
        (i32.store (i32.add (local.get $at) (i32.shl (local.get $g) (i32.const 2))) (local.get $atv))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $groups))))
)
