;; The record scanner of src/trail/scan.ts (`scanRecordFields`) in WebAssembly with 128-bit SIMD:
;; a string-aware brace scanner that finds every object opening at nesting depth `depth` and,
;; for each, where the reader's field names first stand in it. Inside a string it looks at 16
;; bytes at a time for the next quote or backslash (i8x16.eq, i8x16.bitmask, ctz).
;;
;; Built into src/trail/scan-wasm.ts by `npm run build:wasm` (wabt); a test checks the two agree.
;;
;; Memory layout (bytes):
;;   [0, 256)       the names: 8 entries of (length i32, offset i32) at 0, their bytes from 64
;;   [256, 288)     the slots of the record being scanned: 8 i32, -1 when not seen
;;   [288, 292)     elements of the array at depth-1 that are not objects (out)
;;   [1024, 1024+n) the text, followed by 16 readable bytes
;;   [out, ...)     for each record: start, end, then its 8 slots (10 i32), offsets from 1024
(module
  (memory (export "mem") 1)
  (global $BASE i32 (i32.const 1024))
  (global $SLOTS i32 (i32.const 256))
  (global $NONOBJ i32 (i32.const 288))
  (global $NAMES i32 (i32.const 8))

  ;; The slot of the string token mem[q, q+len) (quotes included), or -1.
  (func $slotOf (param $q i32) (param $len i32) (result i32)
    (local $k i32) (local $off i32) (local $j i32)
    (block $none
      (loop $names
        (br_if $none (i32.ge_u (local.get $k) (global.get $NAMES)))
        (if (i32.eq (i32.load (i32.shl (local.get $k) (i32.const 3))) (local.get $len))
          (then
            (local.set $off (i32.load offset=4 (i32.shl (local.get $k) (i32.const 3))))
            (local.set $j (i32.const 1))
            (block $differ
              (loop $bytes
                (if (i32.ge_u (local.get $j) (i32.sub (local.get $len) (i32.const 1)))
                  (then (return (local.get $k))))
                (br_if $differ (i32.ne
                  (i32.load8_u (i32.add (local.get $q) (local.get $j)))
                  (i32.load8_u (i32.add (local.get $off) (local.get $j)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $bytes)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $names)))
    (i32.const -1))

  ;; scan(n, depth, out, outEnd, maxLen): the records at nesting depth `depth` of
  ;; mem[1024, 1024+n), written from `out`; returns how many, -1 when the structure is broken
  ;; (unbalanced, a string left open), -2 when they do not fit before `outEnd`. `maxLen` is the
  ;; longest name (quotes included).
  (func (export "scan") (param $n i32) (param $depth i32) (param $out i32) (param $outEnd i32) (param $maxLen i32) (result i32)
    (local $i i32) (local $end i32) (local $c i32) (local $d i32) (local $start i32) (local $o i32)
    (local $m i32) (local $v v128) (local $q i32) (local $len i32) (local $k i32)
    (local $keyNext i32) (local $expect i32)
    (local.set $i (global.get $BASE))
    (local.set $end (i32.add (global.get $BASE) (local.get $n)))
    (local.set $start (i32.const -1))
    (local.set $o (local.get $out))
    (i32.store (global.get $NONOBJ) (i32.const 0))
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        ;; whitespace
        (br_if $top (i32.or
          (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
          (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09)))))
        ;; the first byte of an element of the array at depth-1
        (if (local.get $expect)
          (then
            (local.set $expect (i32.const 0))
            (if (i32.and (i32.ne (local.get $c) (i32.const 0x7b)) (i32.ne (local.get $c) (i32.const 0x5d)))
              (then (i32.store (global.get $NONOBJ) (i32.add (i32.load (global.get $NONOBJ)) (i32.const 1)))))))
        (if (i32.eq (local.get $c) (i32.const 0x3a))
          (then (local.set $keyNext (i32.const 0)) (br $top)))
        (if (i32.eq (local.get $c) (i32.const 0x22))
          (then
            (local.set $q (i32.sub (local.get $i) (i32.const 1)))
            (loop $str
              (local.set $v (v128.load (local.get $i)))
              (local.set $m (i8x16.bitmask (v128.or
                (i8x16.eq (local.get $v) (v128.const i8x16 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34 34))
                (i8x16.eq (local.get $v) (v128.const i8x16 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92 92)))))
              (if (i32.eqz (local.get $m))
                (then
                  (local.set $i (i32.add (local.get $i) (i32.const 16)))
                  (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
                  (br $str)))
              (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
              (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
              (local.set $c (i32.load8_u (local.get $i)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (if (i32.eq (local.get $c) (i32.const 92))
                (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $str))))
            ;; a string in a name's place inside a record: one of the reader's names?
            (local.set $len (i32.sub (local.get $i) (local.get $q)))
            (if (i32.and (local.get $keyNext)
                  (i32.and (i32.ge_s (local.get $start) (i32.const 0)) (i32.le_u (local.get $len) (local.get $maxLen))))
              (then
                (local.set $k (call $slotOf (local.get $q) (local.get $len)))
                (if (i32.ge_s (local.get $k) (i32.const 0))
                  (then
                    (if (i32.and
                          (i32.lt_s (i32.load (i32.add (global.get $SLOTS) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 0))
                          ;; accessKeyId (2) and arn (3) count only after userIdentity (1)
                          (i32.or
                            (i32.or (i32.lt_u (local.get $k) (i32.const 2)) (i32.gt_u (local.get $k) (i32.const 3)))
                            (i32.ge_s (i32.load offset=4 (global.get $SLOTS)) (i32.const 0))))
                      (then (i32.store
                        (i32.add (global.get $SLOTS) (i32.shl (local.get $k) (i32.const 2)))
                        (i32.sub (local.get $q) (global.get $BASE)))))))))
            (br $top)))
        (if (i32.eq (local.get $c) (i32.const 0x2c))
          (then
            (local.set $keyNext (i32.const 1))
            (if (i32.eq (local.get $d) (i32.sub (local.get $depth) (i32.const 1))) (then (local.set $expect (i32.const 1))))
            (br $top)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x7b)) (i32.eq (local.get $c) (i32.const 0x5b)))
          (then
            (local.set $keyNext (i32.eq (local.get $c) (i32.const 0x7b)))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (if (i32.and (i32.eq (local.get $d) (local.get $depth)) (i32.eq (local.get $c) (i32.const 0x7b)))
              (then
                (local.set $start (i32.sub (i32.sub (local.get $i) (i32.const 1)) (global.get $BASE)))
                (v128.store (global.get $SLOTS) (v128.const i32x4 -1 -1 -1 -1))
                (v128.store offset=16 (global.get $SLOTS) (v128.const i32x4 -1 -1 -1 -1))))
            (if (i32.and (i32.eq (local.get $d) (i32.sub (local.get $depth) (i32.const 1))) (i32.eq (local.get $c) (i32.const 0x5b)))
              (then (local.set $expect (i32.const 1))))
            (br $top)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x7d)) (i32.eq (local.get $c) (i32.const 0x5d)))
          (then
            (if (i32.and (i32.eq (local.get $d) (local.get $depth))
                  (i32.and (i32.eq (local.get $c) (i32.const 0x7d)) (i32.ge_s (local.get $start) (i32.const 0))))
              (then
                (if (i32.gt_u (i32.add (local.get $o) (i32.const 40)) (local.get $outEnd)) (then (return (i32.const -2))))
                (i32.store (local.get $o) (local.get $start))
                (i32.store offset=4 (local.get $o) (i32.sub (local.get $i) (global.get $BASE)))
                (v128.store offset=8 (local.get $o) (v128.load (global.get $SLOTS)))
                (v128.store offset=24 (local.get $o) (v128.load offset=16 (global.get $SLOTS)))
                (local.set $o (i32.add (local.get $o) (i32.const 40)))
                (local.set $start (i32.const -1))))
            (local.set $d (i32.sub (local.get $d) (i32.const 1)))
            (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))))
        (br $top)))
    (if (result i32) (i32.eqz (local.get $d))
      (then (i32.div_u (i32.sub (local.get $o) (local.get $out)) (i32.const 40)))
      (else (i32.const -1))))
)
