;; The cpu revaluation's option cells as WebAssembly SIMD (f64x2): one option's USD and coin rows over a range
;; of scenarios, the keyed path of kernels/revalue.ts revalueTile (its shocked vol σ'·√T' and discount e^{−rT'}
;; per (vol rule, vol parameter, Δt) key computed by the caller). Compiled to dist/kernels/revalue.wasm by
;; `npm run build` (scripts/build-wasm.mjs); driven by kernels/revalueWasm.ts.
;;
;; The arithmetic is the JavaScript form's, operation for operation, so every cell has the same bits
;; (test/kernels/revalueWasm.test.ts): the two lanes of an f64x2 are two scenarios; no fused multiply-add;
;; Math.log and Math.exp are V8's, which are fdlibm's (FreeBSD e_log.c and e_exp.c, src/base/ieee754.cc), written
;; out here with their branches as lane selects; normCdf is kernels/normal.ts's (Cody, with the table of
;; e^{−s²/2} copied in by the driver); black76Norm is kernels/black76.ts's, its two out-of-the-money sides
;; computed per lane from the same two normal CDFs (call: N(d1) − k·N(d2); put: k·N(−d2) − N(−d1)).
;;
;; Memory (byte addresses, each 16-byte aligned):
;;   0      f64 [641]   e^{−s²/2} at s = j/16 (kernels/normal.ts EXP_HALF_SQUARE), written by the driver
;;   mv     f64 [s]     the scenarios' moves m of the option's underlying; n rounded up to even
;;   key    i32 [s]     byte offset (8·q) of the scenario's key q into disc and vol
;;   disc   f64 [q]     e^{−r·T'} per key
;;   vol    f64 [q]     σ'·√T' per key
;;   usd    f64 [s]     out: F·norm, norm = (1+m)·disc·black76Norm(isCall, k/(1+m), vol) − v0
;;   coin   f64 [s]     out (when wanted): (norm + v0)/(1+m) − v0
(module
  (memory (export "memory") 1)

  ;; (v128.bitselect a b m) is m ? a : b lane by lane (every mask here is all ones or all zeros per lane)

  ;; i64 lanes → f64 lanes (values within ±2^31)
  (func $i64ToF64 (param $k v128) (result v128)
    (f64x2.convert_low_i32x4_s
      (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $k) (local.get $k))))

  ;; Math.exp (fdlibm e_exp.c as V8 has it), per lane
  (func $exp (param $x v128) (result v128)
    (local $hx v128) (local $neg v128) (local $red v128) (local $mid v128) (local $kf v128) (local $hi v128)
    (local $lo v128) (local $xr v128) (local $t v128) (local $c v128) (local $r0 v128) (local $y v128)
    (local $ki v128) (local $lowk v128) (local $resk v128) (local $res v128) (local $hl v128) (local $ll v128)
    (local.set $hx
      (v128.and (i64x2.shr_u (local.get $x) (i32.const 32)) (v128.const i64x2 0x7fffffff 0x7fffffff)))
    ;; |x| < 2^-28 in both lanes (e^{−0·T'} at a zero rate): 1 + x
    (if (i64x2.all_true (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3e300000 0x3e300000)))
      (then (return (f64x2.add (v128.const f64x2 1 1) (local.get $x)))))
    ;; the common case, 2^-28 ≤ |x| ≤ 0.5·ln 2 in both lanes: k = 0, no reduction
    (if (i64x2.all_true
          (v128.and
            (i64x2.ge_s (local.get $hx) (v128.const i64x2 0x3e300000 0x3e300000))
            (i64x2.le_s (local.get $hx) (v128.const i64x2 0x3fd62e42 0x3fd62e42))))
      (then
        (local.set $t (f64x2.mul (local.get $x) (local.get $x)))
        (local.set $c (call $expPoly (local.get $x) (local.get $t)))
        (return
          (f64x2.sub (v128.const f64x2 1 1)
            (f64x2.sub
              (f64x2.div (f64x2.mul (local.get $x) (local.get $c)) (f64x2.sub (local.get $c) (v128.const f64x2 2 2)))
              (local.get $x))))))
    (local.set $neg (i64x2.lt_s (local.get $x) (v128.const i64x2 0 0)))
    ;; |x| > 0.5 ln2: reduced; and |x| < 1.5 ln2: k = ±1, hi = x − ln2HI[xsb], lo = ln2LO[xsb]
    (local.set $red (i64x2.gt_s (local.get $hx) (v128.const i64x2 0x3fd62e42 0x3fd62e42)))
    (local.set $mid (v128.and (local.get $red)
      (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3ff0a2b2 0x3ff0a2b2))))
    (local.set $hl (v128.bitselect (v128.const f64x2 -6.93147180369123816490e-01 -6.93147180369123816490e-01) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01) (local.get $neg)))
    (local.set $ll (v128.bitselect (v128.const f64x2 -1.90821492927058770002e-10 -1.90821492927058770002e-10) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10) (local.get $neg)))
    ;; k = (int)(invln2·x + halF[xsb]); hi = x − k·ln2HI[0]; lo = k·ln2LO[0]
    (local.set $kf
      (f64x2.trunc
        (f64x2.add
          (f64x2.mul (v128.const f64x2 1.44269504088896338700e+00 1.44269504088896338700e+00) (local.get $x))
          (v128.bitselect (v128.const f64x2 -0.5 -0.5) (v128.const f64x2 0.5 0.5) (local.get $neg)))))
    (local.set $hi (f64x2.sub (local.get $x)
      (f64x2.mul (local.get $kf) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))))
    (local.set $lo
      (f64x2.mul (local.get $kf) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10)))
    ;; k = ±1: hi = x − ln2HI, lo = ln2LO
    (local.set $kf (v128.bitselect (v128.bitselect (v128.const f64x2 -1 -1) (v128.const f64x2 1 1) (local.get $neg)) (local.get $kf) (local.get $mid)))
    (local.set $hi (v128.bitselect (f64x2.sub (local.get $x) (local.get $hl)) (local.get $hi) (local.get $mid)))
    (local.set $lo (v128.bitselect (local.get $ll) (local.get $lo) (local.get $mid)))
    (local.set $kf (v128.bitselect (local.get $kf) (v128.const f64x2 0 0) (local.get $red)))
    (local.set $xr (v128.bitselect (f64x2.sub (local.get $hi) (local.get $lo)) (local.get $x) (local.get $red)))
    (local.set $t (f64x2.mul (local.get $xr) (local.get $xr)))
    (local.set $c (call $expPoly (local.get $xr) (local.get $t)))
    ;; k = 0: 1 − ((x·c)/(c − 2) − x)
    (local.set $r0
      (f64x2.sub (v128.const f64x2 1 1)
        (f64x2.sub
          (f64x2.div (f64x2.mul (local.get $xr) (local.get $c)) (f64x2.sub (local.get $c) (v128.const f64x2 2 2)))
          (local.get $xr))))
    ;; else y = 1 − ((lo − (x·c)/(2 − c)) − hi), times 2^k
    (local.set $y
      (f64x2.sub (v128.const f64x2 1 1)
        (f64x2.sub
          (f64x2.sub (local.get $lo)
            (f64x2.div (f64x2.mul (local.get $xr) (local.get $c)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c))))
          (local.get $hi))))
    (local.set $ki (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $kf))))
    (local.set $lowk (i64x2.lt_s (local.get $ki) (v128.const i64x2 -1021 -1021)))
    ;; twopk: high word 0x3ff00000 + (k << 20), or + ((k + 1000) << 20) below k = −1021 (then × 2^-1000)
    (local.set $resk
      (f64x2.mul (local.get $y)
        (i64x2.shl
          (i64x2.add (local.get $ki)
            (v128.bitselect (v128.const i64x2 2023 2023) (v128.const i64x2 1023 1023) (local.get $lowk)))
          (i32.const 52))))
    (local.set $resk (v128.bitselect (f64x2.mul (local.get $resk) (v128.const f64x2 0x1p-1000 0x1p-1000)) (local.get $resk) (local.get $lowk)))
    (local.set $resk (v128.bitselect (f64x2.mul (f64x2.mul (local.get $y) (v128.const f64x2 2 2)) (v128.const f64x2 0x1p1023 0x1p1023)) (local.get $resk) (i64x2.eq (local.get $ki) (v128.const i64x2 1024 1024))))
    (local.set $res (v128.bitselect (local.get $resk) (local.get $r0) (local.get $red)))
    ;; |x| < 2^-28: 1 + x; x = 1: e
    (local.set $res (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $x)) (local.get $res) (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x3e300000 0x3e300000))))
    (local.set $res (v128.bitselect (v128.const f64x2 2.718281828459045 2.718281828459045) (local.get $res) (f64x2.eq (local.get $x) (v128.const f64x2 1 1))))
    ;; overflow, underflow (and ±∞), NaN
    (local.set $res (v128.bitselect (v128.const f64x2 inf inf) (local.get $res) (f64x2.gt (local.get $x) (v128.const f64x2 7.09782712893383973096e+02 7.09782712893383973096e+02))))
    (local.set $res (v128.bitselect (v128.const f64x2 0 0) (local.get $res) (f64x2.lt (local.get $x) (v128.const f64x2 -7.45133219101941108420e+02 -7.45133219101941108420e+02))))
    (v128.bitselect (f64x2.add (local.get $x) (local.get $x)) (local.get $res) (f64x2.ne (local.get $x) (local.get $x))))

  ;; exp's c = x − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5)))), t = x²
  (func $expPoly (param $x v128) (param $t v128) (result v128)
    (f64x2.sub (local.get $x)
      (f64x2.mul (local.get $t)
        (f64x2.add (v128.const f64x2 1.66666666666666019037e-01 1.66666666666666019037e-01)
          (f64x2.mul (local.get $t)
            (f64x2.add (v128.const f64x2 -2.77777777770155933842e-03 -2.77777777770155933842e-03)
              (f64x2.mul (local.get $t)
                (f64x2.add (v128.const f64x2 6.61375632143793436117e-05 6.61375632143793436117e-05)
                  (f64x2.mul (local.get $t)
                    (f64x2.add (v128.const f64x2 -1.65339022054652515390e-06 -1.65339022054652515390e-06)
                      (f64x2.mul (local.get $t)
                        (v128.const f64x2 4.13813679705723846039e-08 4.13813679705723846039e-08))))))))))))

  ;; Math.log (fdlibm e_log.c as V8 has it), per lane
  (func $log (param $x v128) (result v128)
    (local $hx v128) (local $sub v128) (local $xs v128) (local $k v128) (local $hxs v128) (local $i v128)
    (local $xn v128) (local $f v128) (local $dk v128) (local $k0 v128) (local $s v128) (local $z v128)
    (local $w v128) (local $R v128) (local $hfsq v128) (local $res v128) (local $ra v128) (local $tiny v128)
    (local $dhi v128) (local $dlo v128) (local $ipos v128) (local $rb v128) (local $rc v128)
    (local.set $hx (i64x2.shr_s (local.get $x) (i32.const 32)))
    ;; x < 2^-1022 (and every negative x): subnormals scaled by 2^54
    (local.set $sub (i64x2.lt_s (local.get $hx) (v128.const i64x2 0x00100000 0x00100000)))
    (local.set $xs (v128.bitselect (f64x2.mul (local.get $x) (v128.const f64x2 1.80143985094819840000e+16 1.80143985094819840000e+16)) (local.get $x) (local.get $sub)))
    (local.set $k (v128.and (local.get $sub) (v128.const i64x2 -54 -54)))
    (local.set $hxs (i64x2.shr_s (local.get $xs) (i32.const 32)))
    (local.set $k (i64x2.add (local.get $k)
      (i64x2.sub (i64x2.shr_s (local.get $hxs) (i32.const 20)) (v128.const i64x2 1023 1023))))
    (local.set $hx (v128.and (local.get $hxs) (v128.const i64x2 0x000fffff 0x000fffff)))
    (local.set $i (v128.and (i64x2.add (local.get $hx) (v128.const i64x2 0x95f64 0x95f64))
      (v128.const i64x2 0x100000 0x100000)))
    ;; SET_HIGH_WORD(x, hx | (i ^ 0x3ff00000)): normalise x or x/2
    (local.set $xn
      (v128.or
        (v128.and (local.get $xs) (v128.const i64x2 0xffffffff 0xffffffff))
        (i64x2.shl
          (v128.or (local.get $hx) (v128.xor (local.get $i) (v128.const i64x2 0x3ff00000 0x3ff00000)))
          (i32.const 32))))
    (local.set $k (i64x2.add (local.get $k) (i64x2.shr_s (local.get $i) (i32.const 20))))
    (local.set $f (f64x2.sub (local.get $xn) (v128.const f64x2 1 1)))
    (local.set $dk (call $i64ToF64 (local.get $k)))
    (local.set $k0 (i64x2.eq (local.get $k) (v128.const i64x2 0 0)))
    (local.set $dhi (f64x2.mul (local.get $dk) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01)))
    (local.set $dlo (f64x2.mul (local.get $dk) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10)))
    ;; −2^-20 ≤ f < 2^-20
    (local.set $tiny (i64x2.lt_s
      (v128.and (i64x2.add (local.get $hx) (v128.const i64x2 2 2)) (v128.const i64x2 0x000fffff 0x000fffff))
      (v128.const i64x2 3 3)))
    (if (v128.any_true (local.get $tiny))
      (then
        ;; R = f·f·(0.5 − 0.33333333333333333·f)
        (local.set $R
          (f64x2.mul (f64x2.mul (local.get $f) (local.get $f))
            (f64x2.sub (v128.const f64x2 0.5 0.5)
              (f64x2.mul (v128.const f64x2 0.33333333333333333 0.33333333333333333) (local.get $f)))))
        (local.set $ra (v128.bitselect (f64x2.sub (local.get $f) (local.get $R)) (f64x2.sub (local.get $dhi) (f64x2.sub (f64x2.sub (local.get $R) (local.get $dlo)) (local.get $f))) (local.get $k0)))
        ;; f = 0: 0 (k = 0), else k·ln2_hi + k·ln2_lo
        (local.set $ra (v128.bitselect (v128.bitselect (v128.const f64x2 0 0) (f64x2.add (local.get $dhi) (local.get $dlo)) (local.get $k0)) (local.get $ra) (f64x2.eq (local.get $f) (v128.const f64x2 0 0))))))
    (if (i32.eqz (i64x2.all_true (local.get $tiny)))
      (then
        (local.set $s (f64x2.div (local.get $f) (f64x2.add (v128.const f64x2 2 2) (local.get $f))))
        (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
        (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
        ;; R = t2 + t1
        (local.set $R
          (f64x2.add
            (f64x2.mul (local.get $z)
              (f64x2.add (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01)
                (f64x2.mul (local.get $w)
                  (f64x2.add (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01)
                    (f64x2.mul (local.get $w)
                      (f64x2.add (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01)
                        (f64x2.mul (local.get $w) (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))))))))
            (f64x2.mul (local.get $w)
              (f64x2.add (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01)
                (f64x2.mul (local.get $w)
                  (f64x2.add (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01)
                    (f64x2.mul (local.get $w) (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))))))))
        ;; i = (hx − 0x6147a) | (0x6b851 − hx)
        (local.set $ipos (i64x2.gt_s
          (v128.or (i64x2.sub (local.get $hx) (v128.const i64x2 0x6147a 0x6147a))
            (i64x2.sub (v128.const i64x2 0x6b851 0x6b851) (local.get $hx)))
          (v128.const i64x2 0 0)))
        (local.set $hfsq (f64x2.mul (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $f)) (local.get $f)))
        (local.set $rb (v128.bitselect (f64x2.sub (local.get $f)
            (f64x2.sub (local.get $hfsq) (f64x2.mul (local.get $s) (f64x2.add (local.get $hfsq) (local.get $R))))) (f64x2.sub (local.get $dhi)
            (f64x2.sub
              (f64x2.sub (local.get $hfsq)
                (f64x2.add (f64x2.mul (local.get $s) (f64x2.add (local.get $hfsq) (local.get $R))) (local.get $dlo)))
              (local.get $f))) (local.get $k0)))
        (local.set $rc (v128.bitselect (f64x2.sub (local.get $f) (f64x2.mul (local.get $s) (f64x2.sub (local.get $f) (local.get $R)))) (f64x2.sub (local.get $dhi)
            (f64x2.sub
              (f64x2.sub (f64x2.mul (local.get $s) (f64x2.sub (local.get $f) (local.get $R))) (local.get $dlo))
              (local.get $f))) (local.get $k0)))
        (local.set $res (v128.bitselect (local.get $rb) (local.get $rc) (local.get $ipos)))))
    (local.set $res (v128.bitselect (local.get $ra) (local.get $res) (local.get $tiny)))
    ;; +∞ and NaN: x + x; x < 0: NaN; ±0: −∞
    (local.set $res (v128.bitselect (f64x2.add (local.get $x) (local.get $x)) (local.get $res) (i64x2.ge_s (local.get $hxs) (v128.const i64x2 0x7ff00000 0x7ff00000))))
    (local.set $res (v128.bitselect (v128.const f64x2 nan nan) (local.get $res) (i64x2.lt_s (local.get $x) (v128.const i64x2 0 0))))
    (v128.bitselect (v128.const f64x2 -inf -inf) (local.get $res) (f64x2.eq (local.get $x) (v128.const f64x2 0 0))))

  ;; e^{−s²/2} at s = j/16 from the table, j = min(floor(16·y), 640) per lane
  (func $table (param $j v128) (result v128)
    (local $ji v128)
    (local.set $ji (i32x4.trunc_sat_f64x2_s_zero (f64x2.min (local.get $j) (v128.const f64x2 640 640))))
    (f64x2.replace_lane 1
      (f64x2.splat (f64.load (i32.shl (i32x4.extract_lane 0 (local.get $ji)) (i32.const 3))))
      (f64.load (i32.shl (i32x4.extract_lane 1 (local.get $ji)) (i32.const 3)))))

  ;; kernels/normal.ts normCdf, per lane
  (func $normCdf (param $x v128) (result v128)
    (local $y v128) (local $small v128) (local $mid v128) (local $xsq v128) (local $xnum v128) (local $xden v128)
    (local $lowS v128) (local $j v128) (local $s v128) (local $e v128) (local $first v128) (local $tail v128)
    (local $r v128) (local $tailF v128)
    (local.set $y (f64x2.abs (local.get $x)))
    (local.set $small (f64x2.le (local.get $y) (v128.const f64x2 0.67448975 0.67448975)))
    (local.set $mid (v128.andnot
      (f64x2.le (local.get $y) (v128.const f64x2 5.656854249492380195 5.656854249492380195)) (local.get $small)))
    (if (v128.any_true (local.get $small))
      (then
        (local.set $xsq (f64x2.mul (local.get $x) (local.get $x)))
        (local.set $xnum (f64x2.mul (v128.const f64x2 0.065682337918207449113 0.065682337918207449113) (local.get $xsq)))
        (local.set $xden (local.get $xsq))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 2.2352520354606839287 2.2352520354606839287)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 47.20258190468824187 47.20258190468824187)) (local.get $xsq)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 161.02823106855587881 161.02823106855587881)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 976.09855173777669322 976.09855173777669322)) (local.get $xsq)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 1067.6894854603709582 1067.6894854603709582)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 10260.932208618978205 10260.932208618978205)) (local.get $xsq)))
        (local.set $lowS
          (f64x2.add (v128.const f64x2 0.5 0.5)
            (f64x2.div
              (f64x2.mul (local.get $x) (f64x2.add (local.get $xnum) (v128.const f64x2 18154.981253343561249 18154.981253343561249)))
              (f64x2.add (local.get $xden) (v128.const f64x2 45507.789335026729956 45507.789335026729956)))))
        (if (i64x2.all_true (local.get $small)) (then (return (local.get $lowS))))))
    ;; the tails: e^{−y²/2} = e^{−s²/2}·e^{−(y−s)(y+s)/2}, s = floor(16·y)/16
    (local.set $j (f64x2.floor (f64x2.mul (local.get $y) (v128.const f64x2 16 16))))
    (local.set $s (f64x2.div (local.get $j) (v128.const f64x2 16 16)))
    (local.set $e (call $exp (f64x2.mul (v128.const f64x2 -0.5 -0.5)
      (f64x2.mul (f64x2.sub (local.get $y) (local.get $s)) (f64x2.add (local.get $y) (local.get $s))))))
    (local.set $first (call $table (local.get $j)))
    (if (v128.any_true (local.get $mid))
      (then
        (local.set $xnum (f64x2.mul (v128.const f64x2 1.0765576773720192317e-8 1.0765576773720192317e-8) (local.get $y)))
        (local.set $xden (local.get $y))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 0.39894151208813466764 0.39894151208813466764)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 22.266688044328115691 22.266688044328115691)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 8.8831497943883759412 8.8831497943883759412)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 235.38790178262499861 235.38790178262499861)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 93.506656132177855979 93.506656132177855979)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 1519.377599407554805 1519.377599407554805)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 597.27027639480026226 597.27027639480026226)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 6485.558298266760755 6485.558298266760755)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 2494.5375852903726711 2494.5375852903726711)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 18615.571640885098091 18615.571640885098091)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 6848.1904505362823326 6848.1904505362823326)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 34900.952721145977266 34900.952721145977266)) (local.get $y)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 11602.651437647350124 11602.651437647350124)) (local.get $y)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 38912.003286093271411 38912.003286093271411)) (local.get $y)))
        (local.set $r
          (f64x2.div
            (f64x2.add (local.get $xnum) (v128.const f64x2 9842.7148383839780218 9842.7148383839780218))
            (f64x2.add (local.get $xden) (v128.const f64x2 19685.429676859990727 19685.429676859990727))))
        (local.set $tail (f64x2.mul (f64x2.mul (local.get $first) (local.get $e)) (local.get $r)))))
    (if (i32.eqz (i64x2.all_true (v128.or (local.get $small) (local.get $mid))))
      (then
        ;; |x| > √32 (and NaN): tail = e^{−x²/2}/|x|·(1/√(2π) − R(1/x²)/x²)
        (local.set $xsq (f64x2.div (v128.const f64x2 1 1) (f64x2.mul (local.get $y) (local.get $y))))
        (local.set $xnum (f64x2.mul (v128.const f64x2 0.02307344176494017303 0.02307344176494017303) (local.get $xsq)))
        (local.set $xden (local.get $xsq))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 0.21589853405795699 0.21589853405795699)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 1.28426009614491121 1.28426009614491121)) (local.get $xsq)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 0.1274011611602473639 0.1274011611602473639)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 0.468238212480865118 0.468238212480865118)) (local.get $xsq)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 0.022235277870649807 0.022235277870649807)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 0.0659881378689285515 0.0659881378689285515)) (local.get $xsq)))
        (local.set $xnum (f64x2.mul (f64x2.add (local.get $xnum) (v128.const f64x2 0.001421619193227893466 0.001421619193227893466)) (local.get $xsq)))
        (local.set $xden (f64x2.mul (f64x2.add (local.get $xden) (v128.const f64x2 0.00378239633202758244 0.00378239633202758244)) (local.get $xsq)))
        (local.set $r
          (f64x2.div
            (f64x2.mul (local.get $xsq) (f64x2.add (local.get $xnum) (v128.const f64x2 2.9112874951168792e-5 2.9112874951168792e-5)))
            (f64x2.add (local.get $xden) (v128.const f64x2 7.29751555083966205e-5 7.29751555083966205e-5))))
        ;; beyond the table (j ≥ 641, or NaN): e^{−s²/2} itself
        (if (i32.eqz (i64x2.all_true (f64x2.lt (local.get $j) (v128.const f64x2 641 641))))
          (then
            (local.set $first (v128.bitselect (local.get $first) (call $exp (f64x2.mul (f64x2.mul (v128.const f64x2 -0.5 -0.5) (local.get $s)) (local.get $s))) (f64x2.lt (local.get $j) (v128.const f64x2 641 641))))))
        (local.set $tailF
          (f64x2.mul (f64x2.mul (local.get $first) (local.get $e))
            (f64x2.div (f64x2.sub (v128.const f64x2 0.3989422804014327 0.3989422804014327) (local.get $r)) (local.get $y))))
        (local.set $tail (v128.bitselect (local.get $tail) (local.get $tailF) (local.get $mid)))))
    (local.set $tail (v128.bitselect (f64x2.sub (v128.const f64x2 1 1) (local.get $tail)) (local.get $tail) (f64x2.gt (local.get $x) (v128.const f64x2 0 0))))
    (v128.bitselect (local.get $lowS) (local.get $tail) (local.get $small)))

  ;; Math.exp, Math.log and normCdf over n values at byte address p (n even), in place: for the tests, which
  ;; compare each function with its JavaScript original on its own.
  (func $map (param $f i32) (param $p i32) (param $n i32)
    (local $e i32)
    (local.set $e (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (local.get $e)))
        (v128.store (local.get $p)
          (if (result v128) (i32.eqz (local.get $f))
            (then (call $exp (v128.load (local.get $p))))
            (else (if (result v128) (i32.eq (local.get $f) (i32.const 1))
              (then (call $log (v128.load (local.get $p))))
              (else (call $normCdf (v128.load (local.get $p))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $each))))
  (func (export "mapExp") (param $p i32) (param $n i32) (call $map (i32.const 0) (local.get $p) (local.get $n)))
  (func (export "mapLog") (param $p i32) (param $n i32) (call $map (i32.const 1) (local.get $p) (local.get $n)))
  (func (export "mapNormCdf") (param $p i32) (param $n i32) (call $map (i32.const 2) (local.get $p) (local.get $n)))

  ;; kernels/black76.ts black76Norm(isCall, kk, sd) per lane (isCall the same in both lanes)
  (func $black76 (param $call i32) (param $kk v128) (param $sd v128) (result v128)
    (local $d1 v128) (local $d2 v128) (local $callOtm v128) (local $A v128) (local $kB v128) (local $otm v128)
    (local $intr v128)
    (local.set $d1
      (f64x2.add
        (f64x2.div (f64x2.neg (call $log (local.get $kk))) (local.get $sd))
        (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $sd))))
    (local.set $d2 (f64x2.sub (local.get $d1) (local.get $sd)))
    ;; the out-of-the-money side: a call at k ≥ 1, N(d1) − k·N(d2); else a put, k·N(−d2) − N(−d1)
    (local.set $callOtm (f64x2.ge (local.get $kk) (v128.const f64x2 1 1)))
    (local.set $A (call $normCdf (v128.bitselect (local.get $d1) (f64x2.neg (local.get $d1)) (local.get $callOtm))))
    (local.set $kB (f64x2.mul (local.get $kk)
      (call $normCdf (v128.bitselect (local.get $d2) (f64x2.neg (local.get $d2)) (local.get $callOtm)))))
    (local.set $otm (f64x2.max
      (v128.bitselect
        (f64x2.sub (local.get $A) (local.get $kB)) (f64x2.sub (local.get $kB) (local.get $A)) (local.get $callOtm))
      (v128.const f64x2 0 0)))
    (local.set $intr
      (if (result v128) (local.get $call)
        (then (f64x2.max (f64x2.sub (v128.const f64x2 1 1) (local.get $kk)) (v128.const f64x2 0 0)))
        (else (f64x2.max (f64x2.sub (local.get $kk) (v128.const f64x2 1 1)) (v128.const f64x2 0 0)))))
    ;; sd < 1e-12: the intrinsic value
    (v128.bitselect (local.get $intr) (f64x2.add (local.get $otm) (local.get $intr))
      (f64x2.lt (local.get $sd) (v128.const f64x2 1e-12 1e-12))))

  ;; A pair of cells at byte offset o: norm = (1+m)·(disc·price) − v0; usd F·norm, coin (norm + v0)/(1+m) − v0
  (func $emit (param $o i32) (param $usd i32) (param $coin i32) (param $wantCoin i32) (param $growth v128)
    (param $dsc v128) (param $price v128) (param $v0 v128) (param $F v128)
    (local $norm v128)
    (local.set $norm
      (f64x2.sub (f64x2.mul (local.get $growth) (f64x2.mul (local.get $dsc) (local.get $price))) (local.get $v0)))
    (v128.store (i32.add (local.get $usd) (local.get $o)) (f64x2.mul (local.get $F) (local.get $norm)))
    (if (local.get $wantCoin)
      (then
        (v128.store (i32.add (local.get $coin) (local.get $o))
          (f64x2.sub (f64x2.div (f64x2.add (local.get $norm) (local.get $v0)) (local.get $growth)) (local.get $v0))))))

  ;; One option's rows over n scenarios, revalueTile's keyed loop (module comment): disc and vol per key.
  (func (export "optionRows")
    (param $isCall i32) (param $k f64) (param $F f64) (param $v0 f64) (param $n i32) (param $mv i32) (param $key i32)
    (param $disc i32) (param $vol i32) (param $usd i32) (param $coin i32) (param $wantCoin i32)
    (local $p i32) (local $o i32) (local $q0 i32) (local $q1 i32) (local $growth v128) (local $sd v128)
    (local $dsc v128)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $p) (local.get $n)))
        (local.set $o (i32.shl (local.get $p) (i32.const 3)))
        (local.set $q0 (i32.load (i32.add (local.get $key) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $q1 (i32.load offset=4 (i32.add (local.get $key) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $dsc (f64x2.replace_lane 1
          (f64x2.splat (f64.load (i32.add (local.get $disc) (local.get $q0))))
          (f64.load (i32.add (local.get $disc) (local.get $q1)))))
        (local.set $sd (f64x2.replace_lane 1
          (f64x2.splat (f64.load (i32.add (local.get $vol) (local.get $q0))))
          (f64.load (i32.add (local.get $vol) (local.get $q1)))))
        (local.set $growth (f64x2.add (v128.const f64x2 1 1) (v128.load (i32.add (local.get $mv) (local.get $o)))))
        (call $emit (local.get $o) (local.get $usd) (local.get $coin) (local.get $wantCoin) (local.get $growth)
          (local.get $dsc)
          (call $black76 (local.get $isCall)
            (f64x2.div (f64x2.splat (local.get $k)) (local.get $growth)) (local.get $sd))
          (f64x2.splat (local.get $v0)) (f64x2.splat (local.get $F)))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pairs))))

  ;; One option's rows over n scenarios, revalueTile's per-cell loop without a surface: per scenario its vol rule
  ;; (i64 codes, kernels/revalue.ts shockedVol), vol parameter and Δt. The rules without a parameter are the
  ;; option's own constants, computed by the caller with shockedVol: up (rule 0) and down (rule 2).
  (func (export "optionCells")
    (param $isCall i32) (param $k f64) (param $F f64) (param $v0 f64) (param $n i32) (param $mv i32) (param $rule i32)
    (param $param i32) (param $dt i32) (param $sigma f64) (param $t f64) (param $rate f64) (param $up f64)
    (param $down f64) (param $usd i32) (param $coin i32) (param $wantCoin i32)
    (local $p i32) (local $o i32) (local $r v128) (local $g v128) (local $sig v128) (local $shocked v128)
    (local $t1 v128) (local $growth v128)
    (local.set $sig (f64x2.splat (local.get $sigma)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_s (local.get $p) (local.get $n)))
        (local.set $o (i32.shl (local.get $p) (i32.const 3)))
        (local.set $r (v128.load (i32.add (local.get $rule) (local.get $o))))
        (local.set $g (v128.load (i32.add (local.get $param) (local.get $o))))
        ;; shockedVol: 1 (none) and any other code leave σ
        (local.set $shocked (local.get $sig))
        (local.set $shocked (v128.bitselect (f64x2.splat (local.get $up)) (local.get $shocked)
          (i64x2.eq (local.get $r) (v128.const i64x2 0 0))))
        (local.set $shocked (v128.bitselect (f64x2.splat (local.get $down)) (local.get $shocked)
          (i64x2.eq (local.get $r) (v128.const i64x2 2 2))))
        (local.set $shocked (v128.bitselect
          (f64x2.max (f64x2.mul (local.get $sig) (f64x2.add (v128.const f64x2 1 1) (local.get $g))) (v128.const f64x2 0.01 0.01))
          (local.get $shocked)
          (i64x2.eq (local.get $r) (v128.const i64x2 3 3))))
        (local.set $shocked (v128.bitselect
          (f64x2.max (f64x2.mul (local.get $sig) (f64x2.sub (v128.const f64x2 1 1) (local.get $g))) (v128.const f64x2 0.01 0.01))
          (local.get $shocked)
          (i64x2.eq (local.get $r) (v128.const i64x2 4 4))))
        (local.set $shocked (v128.bitselect (f64x2.mul (local.get $sig) (local.get $g)) (local.get $shocked)
          (i64x2.eq (local.get $r) (v128.const i64x2 5 5))))
        ;; T' = max(T − Δt, 0); e^{−r·T'}; σ'·√T'
        (local.set $t1 (f64x2.max
          (f64x2.sub (f64x2.splat (local.get $t)) (v128.load (i32.add (local.get $dt) (local.get $o))))
          (v128.const f64x2 0 0)))
        (local.set $growth (f64x2.add (v128.const f64x2 1 1) (v128.load (i32.add (local.get $mv) (local.get $o)))))
        (call $emit (local.get $o) (local.get $usd) (local.get $coin) (local.get $wantCoin) (local.get $growth)
          (call $exp (f64x2.mul (f64x2.splat (f64.neg (local.get $rate))) (local.get $t1)))
          (call $black76 (local.get $isCall)
            (f64x2.div (f64x2.splat (local.get $k)) (local.get $growth))
            (f64x2.mul (local.get $shocked) (f64x2.sqrt (local.get $t1))))
          (f64x2.splat (local.get $v0)) (f64x2.splat (local.get $F)))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pairs))))
)
