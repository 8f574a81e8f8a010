import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap growing factor, as `--heap-growing-percent` (factor 1 + n/100): the factor V8 uses
 * for heaps of 2 GiB and more. For smaller heaps V8 grows more cautiously (1.1–2×), and a
 * process that allocates fast but keeps little alive collects its old generation over and
 * over:
 * - the worker, under its memory budget's --max-old-space-size, ran major GCs far more often
 *   (bench/worker, 1024 MiB, tail phase: 26.9k → 30.4k spans per CPU-second with 4×);
 * - the gateway, ~24 MB live, ran a mark-compact every ~75 ms at 1,000 requests a second
 *   ("GC in old space requested" under --trace-gc; bench/gateway over HTTP: 78 major GCs in the
 *   10 s half-rate phase and 205k spans per CPU-second at full rate, against 14 and 249k with
 *   4×, at the same peak RSS).
 * The heap limit (--max-old-space-size) still bounds the heap; the factor only sets how far
 * it grows between collections below that limit.
 */
export const HEAP_GROWING_PERCENT = 300;

/**
 * Applies HEAP_GROWING_PERCENT to this process, from its next collection on. Set at run time
 * because Node refuses the flag in NODE_OPTIONS.
 */
export function applyHeapGrowing(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
