;; The prefilter's character pass (prefilter.ts, CandidateFinder.findInUnits), 16 characters at
;; a time with WebAssembly SIMD. It answers WHERE the JavaScript loop would act, not what it
;; decides there: every position where that loop calls longRun (a run of token characters
;; reaches MIN_TOKEN = 15), and the positions where it calls event (a character whose EVENT bits
;; survive the previous character's AFTER mask) less those where event() provably does nothing
;; but count a bracket: prefilter.ts's keepsEvent states the rule, and this pass adds up the
;; brackets it leaves out in `levels`. prefilter.ts then makes the remaining calls, in order.
;; Half of a prompt's events go this way: digit runs that cannot grow into a number any
;; detector reads, spaces after an "r" that do not end "bearer", and JSON's '[' and '{'.
;;
;; Assembled by scripts/build-wasm.js into prefilter-wasm.ts; after editing this file run
;; `node scripts/build-wasm.js` (a unit test fails while the two differ).
;;
;; Memory: the string's UTF-16 code units at byte 16 (written by Buffer#write 'utf16le'); bytes
;; 0-15 stay 0, the characters "before" position 0. Hits go to `out`, one i32 each:
;; position << 2 | 2 (event) | 1 (run reaches 15). The caller zeroes the two units after the
;; input (the characters "after" its end) and reserves 48 bytes after it (the last loads read
;; past it; those lanes are masked off), then 4 bytes per unit for hits.
;;
;; Units are narrowed to bytes with unsigned saturation (i8x16.narrow_i16x8_u reads lanes as
;; signed): 0x00FF-0x7FFF become 0xFF and 0x8000-0xFFFF become 0x00. Neither byte, nor any byte
;; from 0x80 up, is a digit, letter, token character, dash, r/c or an event character, and the
;; tables treat NUL and every non-ASCII character alike (PACKED[0] = PACKED[NA]): so a narrowed
;; byte classifies exactly as its character does.
(module
  (memory (export "memory") 1)
  ;; after scan: the JSON nesting levels the '[' and '{' it did not list add (see E_BRACKET)
  (global $levels (export "levels") (mut i32) (i32.const 0))
  (func (export "scan") (param $len i32) (param $out i32) (result i32)
    (local $i i32) (local $a i32) (local $o i32)
    (local $v v128) (local $p v128) (local $dig v128)
    (local $w i32) (local $d i32) (local $e i32) (local $r i32) (local $all i32) (local $j i32)
    (local $rem i32) (local $lim i32) (local $m i32) (local $q i32)
    (local $n1 v128) (local $n2 v128) (local $p2 v128) (local $p3 v128)
    (local $vprev v128) (local $digp v128) (local $digprev v128) (local $lo v128) (local $hi v128)
    (local $cls v128) (local $tok v128)
    (local.set $o (local.get $out))
    (global.set $levels (i32.const 0))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $a (i32.add (i32.const 16) (i32.shl (local.get $i) (i32.const 1))))
        ;; v: characters i..i+15; p: characters i-1..i+14 (each one's predecessor)
        (local.set $v
          (i8x16.narrow_i16x8_u
            (v128.load (local.get $a))
            (v128.load offset=16 (local.get $a))))
        (local.set $p (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $vprev) (local.get $v)))
        (local.set $vprev (local.get $v))
        ;; classes by two table lookups, on the low and the high nibble (ANDed: each bit stands
        ;; for a rectangle of codes; narrowed non-ASCII bytes have a high nibble of 8 or more,
        ;; where every table holds 0). $cls: bit 7 [ {, bit 6 tab, bit 5 space, bit 3 ~, bit 2 @,
        ;; bit 1 : =, bit 0 ( +. $tok: non-zero for the token characters [A-Za-z0-9_.+/=-],
        ;; bit 2 for a digit.
        (local.set $lo (v128.and (local.get $v) (i8x16.splat (i32.const 15))))
        (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $cls
          (v128.and
            (i8x16.swizzle (v128.const i8x16 36 0 0 0 0 0 0 0 1 64 2 129 0 2 8 0) (local.get $lo))
            (i8x16.swizzle (v128.const i8x16 64 0 33 2 4 128 0 136 0 0 0 0 0 0 0 0) (local.get $hi))))
        (local.set $tok
          (v128.and
            (i8x16.swizzle (v128.const i8x16 6 7 7 7 7 7 7 7 7 7 3 17 1 49 17 25) (local.get $lo))
            (i8x16.swizzle (v128.const i8x16 0 0 16 36 1 10 1 2 0 0 0 0 0 0 0 0) (local.get $hi))))
        ;; [0-9], and for each character's predecessor
        (local.set $dig (i8x16.ne (v128.and (local.get $tok) (i8x16.splat (i32.const 4))) (v128.const i64x2 0 0)))
        (local.set $digp (i8x16.shuffle 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 (local.get $digprev) (local.get $dig)))
        (local.set $digprev (local.get $dig))
        ;; lanes that are characters of the string: all 16 but in the last chunk
        (local.set $rem (i32.sub (local.get $len) (local.get $i)))
        (local.set $lim
          (select
            (i32.const 0xffff)
            (i32.sub (i32.shl (i32.const 1) (local.get $rem)) (i32.const 1))
            (i32.ge_u (local.get $rem) (i32.const 16))))
        ;; events that always reach prefilter.ts: @ : = ~ + ( and a dash after a dash
        (local.set $e
          (i8x16.bitmask
            (v128.or
              (i8x16.ne (v128.and (local.get $cls) (i8x16.splat (i32.const 15))) (v128.const i64x2 0 0))
              (v128.and
                (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x2d)))
                (i8x16.eq (local.get $p) (i8x16.splat (i32.const 0x2d)))))))
        ;; E_DIGIT: a digit after a non-digit ...
        (local.set $m
          (i32.and (local.get $lim)
            (i8x16.bitmask
              (v128.andnot (local.get $dig) (local.get $digp)))))
        (if (local.get $m)
          (then
            ;; ... that event() can act on (keepsEvent): another digit next, or a separator
            ;; (' ', '-', '.') and a digit, or an exponent's e/E; or two capitals before it
            (local.set $n1
              (i8x16.narrow_i16x8_u
                (v128.load offset=2 (local.get $a))
                (v128.load offset=18 (local.get $a))))
            (local.set $n2
              (i8x16.narrow_i16x8_u
                (v128.load offset=4 (local.get $a))
                (v128.load offset=20 (local.get $a))))
            (local.set $p2
              (i8x16.narrow_i16x8_u
                (v128.load (i32.sub (local.get $a) (i32.const 4)))
                (v128.load offset=12 (local.get $a))))
            (local.set $e
              (i32.or (local.get $e)
                (i32.and (local.get $m)
                  (i8x16.bitmask
                    (v128.or
                      (v128.or
                        (i8x16.lt_u
                          (i8x16.sub (local.get $n1) (i8x16.splat (i32.const 0x30)))
                          (i8x16.splat (i32.const 10)))
                        (v128.and
                          (v128.or
                            (v128.or
                              (i8x16.eq (local.get $n1) (i8x16.splat (i32.const 0x20)))
                              (i8x16.eq (local.get $n1) (i8x16.splat (i32.const 0x2d))))
                            (i8x16.eq (local.get $n1) (i8x16.splat (i32.const 0x2e))))
                          (i8x16.lt_u
                            (i8x16.sub (local.get $n2) (i8x16.splat (i32.const 0x30)))
                            (i8x16.splat (i32.const 10)))))
                      (v128.or
                        (i8x16.eq
                          (v128.or (local.get $n1) (i8x16.splat (i32.const 0x20)))
                          (i8x16.splat (i32.const 0x65)))
                        (v128.and
                          (i8x16.lt_u
                            (i8x16.sub (local.get $p) (i8x16.splat (i32.const 0x41)))
                            (i8x16.splat (i32.const 26)))
                          (i8x16.lt_u
                            (i8x16.sub (local.get $p2) (i8x16.splat (i32.const 0x41)))
                            (i8x16.splat (i32.const 26))))))))))))
        ;; E_SPACE: a space or tab after r, R, c or C ...
        (local.set $m
          (i32.and (local.get $lim)
            (i8x16.bitmask
              (v128.and
                (i8x16.ne (v128.and (local.get $cls) (i8x16.splat (i32.const 96))) (v128.const i64x2 0 0))
                (v128.or
                  (i8x16.eq
                    (v128.or (local.get $p) (i8x16.splat (i32.const 0x20)))
                    (i8x16.splat (i32.const 0x72)))
                  (i8x16.eq (local.get $p) (i8x16.splat (i32.const 0x63))))))))
        (if (local.get $m)
          (then
            ;; ... ending "rer" (any case) or "sic": `bearer `, `[Bb]asic `
            (local.set $p2
              (i8x16.narrow_i16x8_u
                (v128.load (i32.sub (local.get $a) (i32.const 4)))
                (v128.load offset=12 (local.get $a))))
            (local.set $p3
              (i8x16.narrow_i16x8_u
                (v128.load (i32.sub (local.get $a) (i32.const 6)))
                (v128.load offset=10 (local.get $a))))
            (local.set $e
              (i32.or (local.get $e)
                (i32.and (local.get $m)
                  (i8x16.bitmask
                    (v128.or
                      (v128.and
                        (i8x16.eq
                          (v128.or (local.get $p2) (i8x16.splat (i32.const 0x20)))
                          (i8x16.splat (i32.const 0x65)))
                        (i8x16.eq
                          (v128.or (local.get $p3) (i8x16.splat (i32.const 0x20)))
                          (i8x16.splat (i32.const 0x72))))
                      (v128.and
                        (i8x16.eq (local.get $p2) (i8x16.splat (i32.const 0x69)))
                        (i8x16.eq (local.get $p3) (i8x16.splat (i32.const 0x73)))))))))))
        ;; E_BRACKET: '[' and '{' are counted here (levels: 2 after a '"', else 1); one after a
        ;; space goes to prefilter.ts, which looks past the spaces for the '"'
        (local.set $m
          (i32.and (local.get $lim)
            (i8x16.bitmask (local.get $cls))))
        (if (local.get $m)
          (then
            (local.set $q
              (i32.and (local.get $m)
                (i8x16.bitmask (i8x16.eq (local.get $p) (i8x16.splat (i32.const 0x20))))))
            (global.set $levels
              (i32.add (global.get $levels)
                (i32.add
                  (i32.popcnt (i32.xor (local.get $m) (local.get $q)))
                  (i32.popcnt
                    (i32.and (local.get $m)
                      (i8x16.bitmask (i8x16.eq (local.get $p) (i8x16.splat (i32.const 0x22)))))))))
            (local.set $e (i32.or (local.get $e) (local.get $q)))))
        ;; $w: a window of 32 characters i-16..i+15, bit set for a token character
        ;; [A-Za-z0-9_.+/=-]; the new 16 enter at the top
        (local.set $w
          (i32.or
            (i32.shr_u (local.get $w) (i32.const 16))
            (i32.shl
              (i8x16.bitmask (i8x16.ne (local.get $tok) (v128.const i64x2 0 0)))
              (i32.const 16))))
        ;; $d bit k: window characters k-14..k are all token characters (15 = 2 · 2 · 2 · 2 - 1,
        ;; by doubling: runs of 2, 4, 8, then 8 overlapping 8 by one)
        (local.set $d (i32.and (local.get $w) (i32.shl (local.get $w) (i32.const 1))))
        (local.set $d (i32.and (local.get $d) (i32.shl (local.get $d) (i32.const 2))))
        (local.set $d (i32.and (local.get $d) (i32.shl (local.get $d) (i32.const 4))))
        (local.set $d (i32.and (local.get $d) (i32.shl (local.get $d) (i32.const 7))))
        ;; the run reaches 15 at k: $d at k and not at k-1; the top 16 bits are this chunk's
        (local.set $r
          (i32.shr_u
            (i32.and (local.get $d) (i32.xor (i32.shl (local.get $d) (i32.const 1)) (i32.const -1)))
            (i32.const 16)))
        (local.set $e (i32.and (local.get $e) (local.get $lim)))
        (local.set $r (i32.and (local.get $r) (local.get $lim)))
        ;; one hit per position that has either, in ascending order
        (local.set $all (i32.or (local.get $e) (local.get $r)))
        (block $emitted
          (loop $emit
            (br_if $emitted (i32.eqz (local.get $all)))
            (local.set $j (i32.ctz (local.get $all)))
            (i32.store (local.get $o)
              (i32.or
                (i32.shl (i32.add (local.get $i) (local.get $j)) (i32.const 2))
                (i32.or
                  (i32.and (i32.shr_u (local.get $r) (local.get $j)) (i32.const 1))
                  (i32.shl
                    (i32.and (i32.shr_u (local.get $e) (local.get $j)) (i32.const 1))
                    (i32.const 1)))))
            (local.set $o (i32.add (local.get $o) (i32.const 4)))
            (local.set $all (i32.and (local.get $all) (i32.sub (local.get $all) (i32.const 1))))
            (br $emit)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $chunk)))
    (i32.shr_u (i32.sub (local.get $o) (local.get $out)) (i32.const 2))))
