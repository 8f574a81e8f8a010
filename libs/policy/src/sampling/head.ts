/**
 * Head sampling: a probabilistic decision made from the trace id alone, so every worker,
 * every partition and every signal (spans and the logs that carry the trace id) decides the
 * same way for the same trace, with no coordination. Three modes:
 *
 * - `hash_seed` (default, the Collector's default mode): FNV-1a 32-bit over the seed's four
 *   little-endian bytes followed by the 16 trace-id bytes; the low 14 bits pick one of 16384
 *   buckets and the trace is kept when bucket < floor(percentage × 16384 / 100). A Collector
 *   with the same `hash_seed` and percentage keeps exactly the same traces. Changing the seed
 *   decorrelates layers that sample at different rates.
 * - `proportional`: the trace id's low 56 bits are its randomness R (W3C Trace Context
 *   level 2 random trace ids; OTel's consistent probability sampling). The trace is kept when
 *   R >= T, with rejection threshold T = round((1 − p) × 2^56). Any sampler using the
 *   same rule keeps a superset of the traces a lower-rate one keeps.
 * - `trace_id_ratio`: OpenTelemetry's TraceIdRatioBased sampler, decision for decision as the
 *   OpenTelemetry JS SDK decides it (@opentelemetry/sdk-trace TraceIdRatioBasedSampler, with
 *   ratio = sampling_percentage / 100): the trace id's four big-endian 32-bit words are XORed
 *   into X, and the trace is kept when X < floor(ratio × 0xffffffff) (ratio 1: always), and
 *   never when the id is invalid (all zero). Services whose SDKs sample with
 *   TraceIdRatioBased(r) and a Custodian head stage at r × 100 % agree on every trace; one at
 *   a lower rate keeps a subset of what one at a higher rate keeps.
 *
 * `hash_seed` and `proportional` mode follow the Collector's probabilisticsampler processor.
 * 100% keeps everything and 0% nothing in every mode, except that `trace_id_ratio` mirrors
 * the SDK also in refusing the invalid all-zero trace id at 100%.
 */
import {
  type PolicyProblem,
  type Validated,
  checkKeys,
  expectRecord,
  readNumber,
  readString,
} from '../document/validate';

export const HEAD_SAMPLING_MODES = ['hash_seed', 'proportional', 'trace_id_ratio'] as const;
export type HeadSamplingMode = (typeof HEAD_SAMPLING_MODES)[number];

/** The `sampling.head` section. */
export interface HeadSamplingConfig {
  /** Percentage of traces kept, 0–100. Default 100 (nothing sampled out). */
  sampling_percentage: number;
  /** `hash_seed` (default), `proportional` or `trace_id_ratio`; see the module comment. */
  mode?: HeadSamplingMode;
  /** Seed for `hash_seed` mode, an unsigned 32-bit integer. Default 0. */
  hash_seed?: number;
}

export function validateHeadSamplingConfig(
  raw: unknown,
  path = 'sampling.head',
): Validated<HeadSamplingConfig> {
  const problems: PolicyProblem[] = [];
  const obj = expectRecord(raw, path, problems);
  if (!obj) return { problems };
  checkKeys(obj, ['sampling_percentage', 'mode', 'hash_seed'], path, problems);
  const pct = readNumber(obj, 'sampling_percentage', path, problems, {
    required: true,
    min: 0,
    max: 100,
  });
  const mode = readString(obj, 'mode', path, problems, {
    oneOf: HEAD_SAMPLING_MODES,
  }) as HeadSamplingMode | undefined;
  const seed = readNumber(obj, 'hash_seed', path, problems, {
    integer: true,
    min: 0,
    max: 0xffffffff,
  });
  if (seed !== undefined && mode !== undefined && mode !== 'hash_seed') {
    problems.push({
      path: `${path}.hash_seed`,
      message: `is used only in hash_seed mode (${mode} mode reads the trace id directly)`,
    });
  }
  if (problems.length || pct === undefined) return { problems };
  const config: HeadSamplingConfig = { sampling_percentage: pct };
  if (mode) config.mode = mode;
  if (seed !== undefined) config.hash_seed = seed;
  return { config, problems };
}

const NUM_HASH_BUCKETS = 0x4000;
const BUCKET_MASK = NUM_HASH_BUCKETS - 1;
const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a 32-bit of seed (4 bytes LE) ‖ bytes, as the Collector's computeHash. */
export function fnv1a32Seeded(bytes: Uint8Array, seed: number): number {
  let h = FNV32_OFFSET;
  for (let i = 0; i < 4; i++) {
    h ^= (seed >>> (8 * i)) & 0xff;
    h = Math.imul(h, FNV32_PRIME);
  }
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, FNV32_PRIME);
  }
  return h >>> 0;
}

const TWO_POW_56 = 2n ** 56n;

/** Head sampler, compiled: `keep(traceId)` is a pure function of the id. */
export class HeadSampler {
  readonly percentage: number;
  readonly mode: HeadSamplingMode;
  private readonly seed: number;
  private readonly scaledRate: number;
  /** Rejection threshold split in a high 24-bit and low 32-bit half (no bigint per call). */
  private readonly thresholdHi: number;
  private readonly thresholdLo: number;
  /** trace_id_ratio: the SDK's upper bound (exclusive) on the XOR of the id's words. */
  private readonly ratioUpperBound: number;

  constructor(config: HeadSamplingConfig = { sampling_percentage: 100 }) {
    this.percentage = config.sampling_percentage;
    this.mode = config.mode ?? 'hash_seed';
    this.seed = config.hash_seed ?? 0;
    this.scaledRate = Math.floor((this.percentage * NUM_HASH_BUCKETS) / 100);
    const p = this.percentage / 100;
    // T = (1 - p) * 2^56; a double carries 53 significant bits, plenty for a percentage.
    const t = BigInt(Math.round((1 - p) * 2 ** 56));
    const threshold = t > TWO_POW_56 ? TWO_POW_56 : t;
    this.thresholdHi = Number(threshold >> 32n);
    this.thresholdLo = Number(threshold & 0xffffffffn);
    // As TraceIdRatioBasedSampler's constructor, on the same ratio.
    const ratio = p >= 1 ? 1 : p <= 0 ? 0 : p;
    this.ratioUpperBound = ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
  }

  /** True when every trace is kept without looking at it (the stage can be skipped). */
  get keepsAll(): boolean {
    return this.percentage >= 100 && this.mode !== 'trace_id_ratio';
  }

  /** True when the trace is kept. */
  keep(traceId: Uint8Array): boolean {
    if (this.mode === 'trace_id_ratio') return this.keepRatio(traceId);
    if (this.percentage >= 100) return true;
    if (this.percentage <= 0) return false;
    if (this.mode === 'hash_seed') {
      return (fnv1a32Seeded(traceId, this.seed) & BUCKET_MASK) < this.scaledRate;
    }
    // R = low 56 bits = bytes 9..15 (big-endian): hi = bytes 9..11 (24 bits), lo = 12..15.
    const hi = (traceId[9] << 16) | (traceId[10] << 8) | traceId[11];
    const lo = ((traceId[12] << 24) | (traceId[13] << 16) | (traceId[14] << 8) | traceId[15]) >>> 0;
    if (hi !== this.thresholdHi) return hi > this.thresholdHi;
    return lo >= this.thresholdLo;
  }

  private keepRatio(id: Uint8Array): boolean {
    if (id.length !== 16) return false;
    const x =
      (((id[0] << 24) | (id[1] << 16) | (id[2] << 8) | id[3]) ^
        ((id[4] << 24) | (id[5] << 16) | (id[6] << 8) | id[7]) ^
        ((id[8] << 24) | (id[9] << 16) | (id[10] << 8) | id[11]) ^
        ((id[12] << 24) | (id[13] << 16) | (id[14] << 8) | id[15])) >>>
      0;
    if (x >= this.ratioUpperBound) return false;
    // isValidTraceId: not all zero (an all-zero id XORs to 0, so test only then).
    if (x === 0) {
      for (let i = 0; i < 16; i++) if (id[i] !== 0) return true;
      return false;
    }
    return true;
  }
}
