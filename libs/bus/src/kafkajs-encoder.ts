/**
 * kafkajs builds every produce request with its protocol Encoder, which grows its buffer by
 * doubling with Buffer.alloc: each record value, each record batch, the compressed batch and the
 * request are copied into freshly zero-filled buffers. Zero-filling those buffers — which are
 * overwritten right away — was ~10% of the gateway's CPU in bench/gateway's profile (FastBuffer
 * under Encoder.ensureAvailable). The Encoder only ever exposes `buf.slice(0, offset)` (its
 * `buffer` getter; writeEncoder and writeEncoderArray read through it too), so bytes past
 * `offset` never reach the wire and the growth can use Buffer.allocUnsafe.
 *
 * Growth also reserves what is known to be coming, because every byte allocated is external
 * memory that V8 answers with a scavenge ("external memory pressure"; bench/gateway saw one every
 * ~80 ms, and old-space collections every ~250 ms from what those promoted): a buffer grows to
 * twice its size or the bytes needed plus GROWTH_SLACK, whichever is more, not to the next power
 * of two (a 12 KB record value took a 16 KB buffer; now 13 KB, and the record's headers fit in
 * the slack), and
 * writeEncoderArray — which kafkajs uses to concatenate every record of a batch before
 * compressing it — reserves the whole array's length once instead of doubling its way there.
 *
 * This reaches into kafkajs's internals (pinned at 2.2.4 in package.json); if a future version
 * moves or changes the Encoder, the patch is skipped rather than half-applied, and
 * kafkajs-encoder.spec.ts fails so the upgrade is noticed.
 */
import { kafkajsInternal } from './kafkajs-internals';

interface EncoderInternals {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeEncoderArray(value: unknown): EncoderInternals;
}

/** Room left after a growth for the small fields that follow a large write (record headers). */
export const GROWTH_SLACK = 1024;

interface EncoderClass {
  prototype: EncoderInternals;
  nextPowerOfTwo(value: number): number;
}

let patched = false;

/** Whether kafkajs's Encoder grows without zero-filling (false: kafkajs changed; left as is). */
export function patchKafkajsEncoder(): boolean {
  if (patched) return true;
  const Encoder = kafkajsInternal<EncoderClass>('protocol/encoder');
  const proto = Encoder?.prototype;
  if (
    typeof proto?.ensureAvailable !== 'function' ||
    typeof proto?.writeEncoderArray !== 'function' ||
    typeof Encoder?.nextPowerOfTwo !== 'function' ||
    !Object.getOwnPropertyDescriptor(proto, 'buffer')?.get
  ) {
    return false;
  }
  proto.ensureAvailable = function ensureAvailable(this: EncoderInternals, length: number): void {
    const needed = this.offset + length;
    if (needed > this.buf.length) {
      // doubling keeps many small appends linear; one large write gets what it needs + slack
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, needed + GROWTH_SLACK));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  // The constructor is nextPowerOfTwo's only caller (the growth above no longer uses it): every
  // Encoder starts empty instead of with a zero-filled 512 B buffer of its own, and its first
  // write takes a slice of Node's shared Buffer pool (allocUnsafe under 4 KiB). kafkajs makes
  // an Encoder per record and per record header — 6 per record here — and each was an
  // ArrayBuffer for the GC to track and free (5% of the gateway's busy CPU in FastBuffer in some
  // bench/gateway runs).
  Encoder.nextPowerOfTwo = (): number => 0;
  proto.writeEncoderArray = function writeEncoderArray(
    this: EncoderInternals,
    value: unknown,
  ): EncoderInternals {
    if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
      throw new Error('all values should be an instance of Encoder[]');
    }
    const encoders = value as EncoderInternals[];
    let total = 0;
    for (const e of encoders) total += e.offset;
    this.ensureAvailable(total);
    for (const e of encoders) {
      e.buf.copy(this.buf, this.offset, 0, e.offset);
      this.offset += e.offset;
    }
    return this;
  };
  patched = true;
  return true;
}

patchKafkajsEncoder();
