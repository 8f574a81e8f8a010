/**
 * Minimal benchmark harness for bench/otlp: warm up, then time rounds of a fixed number of
 * calls and report the median round as one JSON line per measurement (name, items/s, ns per
 * item, MB/s of input), so runs can be compared mechanically.
 */
import { performance } from 'node:perf_hooks';

export interface Measurement {
  name: string;
  'items/s': number;
  'ns/item': number;
  'MB/s': number;
  itemsPerCall: number;
  bytesPerCall: number;
}

export function measure(
  name: string,
  itemsPerCall: number,
  bytesPerCall: number,
  fn: () => unknown,
  { rounds = 15, minRoundMs = 150 } = {},
): Measurement {
  let sink: unknown;
  // Warm-up, and find a call count that makes a round last at least minRoundMs.
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) sink = fn();
    if (performance.now() - t0 >= minRoundMs) break;
    calls *= 2;
  }
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) sink = fn();
    perCall.push((performance.now() - t0) / calls);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  perCall.sort((a, b) => a - b);
  const ms = perCall[Math.floor(perCall.length / 2)];
  const m: Measurement = {
    name,
    'items/s': Math.round((itemsPerCall / ms) * 1000),
    'ns/item': Math.round((ms * 1e6) / itemsPerCall),
    'MB/s': Math.round((bytesPerCall / 1e6 / (ms / 1000)) * 10) / 10,
    itemsPerCall,
    bytesPerCall,
  };
  console.log(JSON.stringify(m));
  return m;
}
