;; The record scanner of src/trail/scan.ts (`scanRecordFields`) in WebAssembly with 128-bit SIMD:
;; a string-aware brace scanner that finds every object opening at nesting depth `depth` and,
;; for each, where the reader's field names first stand in it. Inside a string it looks at 16
;; bytes at a time for the next quote or backslash (i8x16.eq, i8x16.bitmask, ctz).
;;
;; Built into src/trail/scan-wasm.ts by `npm run build:wasm` (wabt); a test checks the two agree.
;;
;; It also interns the values of three of the names (eventName, and accessKeyId and arn after
;; userIdentity): the string after each such name, when it has no escape, is looked up by its
;; bytes (a hash of its length and first and last 16 bytes, open addressing, every hit
;; compared byte for byte) in a table kept across
;; calls, and the record gets its id; a value seen for the first time is copied into the arena
;; and numbered. The caller decodes each new id once and hands its string to every record that
;; has it, instead of decoding the value of every record. No id (-1): the caller reads the value
;; itself (an escape, not a string, the table full).
;;
;; Memory layout (bytes):
;;   [0, 256)         the names: 8 entries of (length i32, offset i32) at 0, their bytes from 64
;;   [256, 288)       the slots of the record being scanned: 8 i32, -1 when not seen
;;   [288, 292)       elements of the array at depth-1 that are not objects (out)
;;   [292, 304)       the value ids of the record being scanned: 3 i32, -1 when none
;;   [304, 308)       ids given so far (in and out; 0 empties the table)
;;   [308, 312)       arena bytes used so far (in and out)
;;   [312, 316)       the largest record (bytes) whose eventTime counts (in)
;;   [320, 340)       the earliest eventTime that counts, [352, 372) the first it does not (in)
;;   [384, 404)       the text's earliest eventTime, [416, 436) its latest, (out) when
;;   [448, 452)       is 1 (out)
;;   [4096, +128 Ki)  the table: 16,384 entries of (hash i32, id + 1 i32), 0 when free
;;   [+128 Ki)        the ids: 8,192 entries of (arena offset i32, length i32)
;;   [ARENA, +1 Mi)   the bytes of the values, each at its offset, followed by 16 spare bytes
;;   [BASE, BASE+n)   the text, followed by 16 readable bytes
;;   [out, ...)       for each record: start, end, its 8 slots, its 3 value ids, 1 when its
;;                    eventTime is counted in [384, 436) (14 i32), offsets from BASE
;;
;; eventTime: a value in the form 2026-10-03T01:11:00Z (no escape), within [320, 372), of a record
;; no larger than [312) is not handed back: the text's earliest and latest such are, and the
;; record is marked; the caller reads any other itself.
(module
  (memory (export "mem") 1)
  (global $BASE i32 (i32.const 1331200))
  (global $SLOTS i32 (i32.const 256))
  (global $NONOBJ i32 (i32.const 288))
  (global $VALS i32 (i32.const 292))
  (global $COUNT i32 (i32.const 304))
  (global $USED i32 (i32.const 308))
  (global $TABLE i32 (i32.const 4096))
  (global $TABLE_MASK i32 (i32.const 16383))
  (global $IDS i32 (i32.const 135168))
  (global $MAX_IDS i32 (i32.const 8192))
  (global $ARENA i32 (i32.const 200704))
  (global $ARENA_BYTES i32 (i32.const 1048576))
  (global $MAX_VALUE i32 (i32.const 256))
  (global $NAMES i32 (i32.const 8))
  (global $MAX_RECORD i32 (i32.const 312))
  (global $FROM i32 (i32.const 320))
  (global $TO i32 (i32.const 352))
  (global $MIN i32 (i32.const 384))
  (global $MAX i32 (i32.const 416))
  (global $TIMES i32 (i32.const 448))

  ;; Whether mem[p, p+20) is a time in the form 2026-10-03T01:11:00Z: digits at their places,
  ;; `-`, `-`, `T`, `:` among the first 16 bytes, then `:`, two digits, `Z`.
  (func $isoAt (param $p i32) (result i32)
    (local $v v128)
    (local.set $v (v128.load (local.get $p)))
    (i32.and
      (i32.and
        (i32.eq
          (i32.and
            (i8x16.bitmask (v128.and
              (i8x16.ge_u (local.get $v) (i8x16.splat (i32.const 0x30)))
              (i8x16.le_u (local.get $v) (i8x16.splat (i32.const 0x39)))))
            (i32.const 56175))
          (i32.const 56175))
        (i32.eq
          (i32.and
            (i8x16.bitmask (i8x16.eq (local.get $v) (v128.const i8x16 0 0 0 0 45 0 0 45 0 0 84 0 0 58 0 0)))
            (i32.const 9360))
          (i32.const 9360)))
      (i32.and
        (i32.and (i32.eq (i32.load8_u offset=16 (local.get $p)) (i32.const 0x3a)) (i32.eq (i32.load8_u offset=19 (local.get $p)) (i32.const 0x5a)))
        (i32.and
          (i32.lt_u (i32.sub (i32.load8_u offset=17 (local.get $p)) (i32.const 0x30)) (i32.const 10))
          (i32.lt_u (i32.sub (i32.load8_u offset=18 (local.get $p)) (i32.const 0x30)) (i32.const 10))))))

  ;; mem[a, a+20) against mem[b, b+20) as bytes: negative, zero or positive.
  (func $cmp20 (param $a i32) (param $b i32) (result i32)
    (local $m i32) (local $j i32)
    (local.set $m (i32.xor (i32.const 0xffff)
      (i8x16.bitmask (i8x16.eq (v128.load (local.get $a)) (v128.load (local.get $b))))))
    (if (local.get $m)
      (then
        (local.set $j (i32.ctz (local.get $m)))
        (return (i32.sub
          (i32.load8_u (i32.add (local.get $a) (local.get $j)))
          (i32.load8_u (i32.add (local.get $b) (local.get $j)))))))
    (local.set $j (i32.const 16))
    (block $same
      (loop $tail
        (br_if $same (i32.ge_u (local.get $j) (i32.const 20)))
        (local.set $m (i32.sub
          (i32.load8_u (i32.add (local.get $a) (local.get $j)))
          (i32.load8_u (i32.add (local.get $b) (local.get $j)))))
        (if (local.get $m) (then (return (local.get $m))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (i32.const 0))

  ;; Whether mem[from, to) is spaces, one `:`, spaces (what stands between a name and its value).
  (func $colonOnly (param $from i32) (param $to i32) (result i32)
    (local $c i32) (local $colon i32)
    (block $no
      (loop $each
        (if (i32.ge_u (local.get $from) (local.get $to)) (then (return (local.get $colon))))
        (local.set $c (i32.load8_u (local.get $from)))
        (if (i32.eq (local.get $c) (i32.const 0x3a))
          (then
            (br_if $no (local.get $colon))
            (local.set $colon (i32.const 1)))
          (else
            (br_if $no (i32.eqz (i32.or
              (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x0a)))
              (i32.or (i32.eq (local.get $c) (i32.const 0x0d)) (i32.eq (local.get $c) (i32.const 0x09))))))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $each)))
    (i32.const 0))

  ;; The id of the value mem[s, s+len) (no quotes), found or given now; -1 when it is too long
  ;; or the table or the arena is full.
  (func $intern (param $s i32) (param $len i32) (result i32)
    (local $h i32) (local $j i32) (local $at i32) (local $e i32) (local $id i32)
    (local $off i32) (local $m i32) (local $n i32) (local $used i32)
    (local $a v128) (local $b v128) (local $x i64)
    (if (i32.gt_u (local.get $len) (global.get $MAX_VALUE)) (then (return (i32.const -1))))
    ;; the hash: the length and the first and last 16 bytes (two loads, the bytes past the end
    ;; of a short value masked), multiplied and folded; equal hashes are compared byte for byte
    (local.set $a (v128.and
      (v128.load (local.get $s))
      (i8x16.lt_u (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15) (i8x16.splat (local.get $len)))))
    (if (i32.gt_u (local.get $len) (i32.const 16))
      (then (local.set $b (v128.load (i32.sub (i32.add (local.get $s) (local.get $len)) (i32.const 16)))))
      (else (local.set $b (v128.const i64x2 0 0))))
    (local.set $x (i64.xor
      (i64.xor
        (i64.mul (i64x2.extract_lane 0 (local.get $a)) (i64.const 0x9E3779B97F4A7C15))
        (i64.mul (i64x2.extract_lane 1 (local.get $a)) (i64.const 0xC2B2AE3D27D4EB4F)))
      (i64.xor
        (i64.mul (i64x2.extract_lane 0 (local.get $b)) (i64.const 0x165667B19E3779F9))
        (i64.mul (i64.xor (i64x2.extract_lane 1 (local.get $b)) (i64.extend_i32_u (local.get $len))) (i64.const 0x27D4EB2F165667C5)))))
    (local.set $h (i32.wrap_i64 (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 29)))))
    (local.set $at (i32.and (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))) (global.get $TABLE_MASK)))
    (loop $probe
      (local.set $e (i32.add (global.get $TABLE) (i32.shl (local.get $at) (i32.const 3))))
      (local.set $id (i32.load offset=4 (local.get $e)))
      (if (i32.eqz (local.get $id))
        (then
          ;; not there: numbered now, when there is room
          (local.set $n (i32.load (global.get $COUNT)))
          (local.set $used (i32.load (global.get $USED)))
          (if (i32.or (i32.ge_u (local.get $n) (global.get $MAX_IDS))
                (i32.gt_u (i32.add (local.get $used) (local.get $len)) (global.get $ARENA_BYTES)))
            (then (return (i32.const -1))))
          (memory.copy (i32.add (global.get $ARENA) (local.get $used)) (local.get $s) (local.get $len))
          (i32.store (i32.add (global.get $IDS) (i32.shl (local.get $n) (i32.const 3))) (local.get $used))
          (i32.store offset=4 (i32.add (global.get $IDS) (i32.shl (local.get $n) (i32.const 3))) (local.get $len))
          (i32.store (local.get $e) (local.get $h))
          (i32.store offset=4 (local.get $e) (i32.add (local.get $n) (i32.const 1)))
          (i32.store (global.get $COUNT) (i32.add (local.get $n) (i32.const 1)))
          (i32.store (global.get $USED) (i32.add (local.get $used) (local.get $len)))
          (return (local.get $n))))
      (local.set $id (i32.sub (local.get $id) (i32.const 1)))
      (if (i32.and
            (i32.eq (i32.load (local.get $e)) (local.get $h))
            (i32.eq (i32.load offset=4 (i32.add (global.get $IDS) (i32.shl (local.get $id) (i32.const 3)))) (local.get $len)))
        (then
          ;; the same hash and length: the same bytes? 16 at a time, the last chunk masked
          (local.set $off (i32.add (global.get $ARENA) (i32.load (i32.add (global.get $IDS) (i32.shl (local.get $id) (i32.const 3))))))
          (local.set $j (i32.const 0))
          (block $differ
            (loop $cmp
              (if (i32.ge_u (local.get $j) (local.get $len)) (then (return (local.get $id))))
              (local.set $m (i8x16.bitmask (i8x16.eq
                (v128.load (i32.add (local.get $s) (local.get $j)))
                (v128.load (i32.add (local.get $off) (local.get $j))))))
              (if (i32.lt_u (i32.sub (local.get $len) (local.get $j)) (i32.const 16))
                (then (local.set $m (i32.or (local.get $m)
                  (i32.xor (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $len) (local.get $j))) (i32.const 1)) (i32.const 0xffff))))))
              (br_if $differ (i32.ne (local.get $m) (i32.const 0xffff)))
              (local.set $j (i32.add (local.get $j) (i32.const 16)))
              (br $cmp)))))
      (local.set $at (i32.and (i32.add (local.get $at) (i32.const 1)) (global.get $TABLE_MASK)))
      (br $probe))
    (i32.const -1))

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

  ;; scan(n, depth, out, outEnd, lengths): the records at nesting depth `depth` of
  ;; mem[BASE, BASE+n), written from `out`; returns how many, -1 when the structure is broken
  ;; (unbalanced, a string left open), -2 when they do not fit before `outEnd`. `lengths` has
  ;; bit L set when some name is L bytes long (quotes included; every name under 32): a string
  ;; of another length is no name, and is not compared with them.
  (func (export "scan") (param $n i32) (param $depth i32) (param $out i32) (param $outEnd i32) (param $lengths i32) (result i32)
    (local $i i32) (local $end i32) (local $c i32) (local $d i32) (local $start i32) (local $o i32)
    (local $m i32) (local $v v128) (local $q i32) (local $len i32) (local $k i32)
    (local $keyNext i32) (local $expect i32) (local $pending i32) (local $esc i32) (local $keyEnd i32) (local $timeAt i32)
    (local.set $i (global.get $BASE))
    (local.set $pending (i32.const -1))
    (local.set $end (i32.add (global.get $BASE) (local.get $n)))
    (local.set $start (i32.const -1))
    (local.set $o (local.get $out))
    (i32.store (global.get $NONOBJ) (i32.const 0))
    (i32.store (global.get $TIMES) (i32.const 0))
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
            (local.set $esc (i32.const 0))
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
                (then (local.set $esc (i32.const 1)) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $str))))
            (local.set $len (i32.sub (local.get $i) (local.get $q)))
            ;; the string after one of the interned names (eventName 0, accessKeyId 2, arn 3): its
            ;; value when only `:` and spaces stand between them
            (if (i32.ge_s (local.get $pending) (i32.const 0))
              (then
                (if (call $colonOnly (local.get $keyEnd) (local.get $q))
                  (then (if (i32.eq (local.get $pending) (i32.const 5))
                  (then
                    ;; eventTime: counted here when in the plain form and within the range
                    (if (i32.and (i32.and (i32.eqz (local.get $esc)) (i32.eq (local.get $len) (i32.const 22)))
                          (call $isoAt (i32.add (local.get $q) (i32.const 1))))
                      (then
                        (if (i32.and
                              (i32.ge_s (call $cmp20 (i32.add (local.get $q) (i32.const 1)) (global.get $FROM)) (i32.const 0))
                              (i32.lt_s (call $cmp20 (i32.add (local.get $q) (i32.const 1)) (global.get $TO)) (i32.const 0)))
                          (then (local.set $timeAt (i32.add (local.get $q) (i32.const 1))))))))
                  (else (i32.store
                  (i32.add (global.get $VALS) (i32.shl (select (i32.const 0) (i32.sub (local.get $pending) (i32.const 1)) (i32.eqz (local.get $pending))) (i32.const 2)))
                  (if (result i32) (local.get $esc)
                    (then (i32.const -1))
                    (else (call $intern (i32.add (local.get $q) (i32.const 1)) (i32.sub (local.get $len) (i32.const 2))))))))))
                (local.set $pending (i32.const -1))))
            ;; a string in a name's place inside a record: one of the reader's names?
            (if (i32.and (local.get $keyNext)
                  (i32.and (i32.ge_s (local.get $start) (i32.const 0))
                    (i32.and (i32.lt_u (local.get $len) (i32.const 32)) (i32.and (i32.shr_u (local.get $lengths) (local.get $len)) (i32.const 1)))))
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
                      (then
                        (i32.store
                          (i32.add (global.get $SLOTS) (i32.shl (local.get $k) (i32.const 2)))
                          (i32.sub (local.get $q) (global.get $BASE)))
                        (local.set $keyEnd (local.get $i))
                        (local.set $pending (select (local.get $k) (i32.const -1)
                          (i32.or (i32.or (i32.eqz (local.get $k)) (i32.eq (local.get $k) (i32.const 5))) (i32.or (i32.eq (local.get $k) (i32.const 2)) (i32.eq (local.get $k) (i32.const 3))))))))))))
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
                (v128.store offset=16 (global.get $SLOTS) (v128.const i32x4 -1 -1 -1 -1))
                (i32.store (global.get $VALS) (i32.const -1))
                (i32.store offset=4 (global.get $VALS) (i32.const -1))
                (i32.store offset=8 (global.get $VALS) (i32.const -1))
                (local.set $timeAt (i32.const 0))))
            (if (i32.and (i32.eq (local.get $d) (i32.sub (local.get $depth) (i32.const 1))) (i32.eq (local.get $c) (i32.const 0x5b)))
              (then (local.set $expect (i32.const 1))))
            (br $top)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x7d)) (i32.eq (local.get $c) (i32.const 0x5d)))
          (then
            (if (i32.and (i32.eq (local.get $d) (local.get $depth))
                  (i32.and (i32.eq (local.get $c) (i32.const 0x7d)) (i32.ge_s (local.get $start) (i32.const 0))))
              (then
                (if (i32.gt_u (i32.add (local.get $o) (i32.const 56)) (local.get $outEnd)) (then (return (i32.const -2))))
                (i32.store (local.get $o) (local.get $start))
                (i32.store offset=4 (local.get $o) (i32.sub (local.get $i) (global.get $BASE)))
                (v128.store offset=8 (local.get $o) (v128.load (global.get $SLOTS)))
                (v128.store offset=24 (local.get $o) (v128.load offset=16 (global.get $SLOTS)))
                (i32.store offset=40 (local.get $o) (i32.load (global.get $VALS)))
                (i32.store offset=44 (local.get $o) (i32.load offset=4 (global.get $VALS)))
                (i32.store offset=48 (local.get $o) (i32.load offset=8 (global.get $VALS)))
                (i32.store offset=52 (local.get $o) (i32.const 0))
                ;; its eventTime into the text's earliest and latest, when the record is not too large
                (if (i32.and (i32.ne (local.get $timeAt) (i32.const 0))
                      (i32.le_u (i32.sub (i32.sub (local.get $i) (global.get $BASE)) (local.get $start)) (i32.load (global.get $MAX_RECORD))))
                  (then
                    (i32.store offset=52 (local.get $o) (i32.const 1))
                    (if (i32.eqz (i32.load (global.get $TIMES)))
                      (then
                        (memory.copy (global.get $MIN) (local.get $timeAt) (i32.const 20))
                        (memory.copy (global.get $MAX) (local.get $timeAt) (i32.const 20))
                        (i32.store (global.get $TIMES) (i32.const 1)))
                      (else
                        (if (i32.lt_s (call $cmp20 (local.get $timeAt) (global.get $MIN)) (i32.const 0))
                          (then (memory.copy (global.get $MIN) (local.get $timeAt) (i32.const 20))))
                        (if (i32.gt_s (call $cmp20 (local.get $timeAt) (global.get $MAX)) (i32.const 0))
                          (then (memory.copy (global.get $MAX) (local.get $timeAt) (i32.const 20))))))))
                (local.set $o (i32.add (local.get $o) (i32.const 56)))
                (local.set $start (i32.const -1))))
            (local.set $d (i32.sub (local.get $d) (i32.const 1)))
            (if (i32.lt_s (local.get $d) (i32.const 0)) (then (return (i32.const -1))))))
        (br $top)))
    (if (result i32) (i32.eqz (local.get $d))
      (then (i32.div_u (i32.sub (local.get $o) (local.get $out)) (i32.const 56)))
      (else (i32.const -1))))
)
