/**
 * kafkajs builds every produce request with its protocol Encoder, which grows its buffer by
 * doubling with Buffer.alloc: each record value, each record batch, the compressed batch and the
 * request are copied into freshly zero-filled buffers. Zero-filling those buffers — which are
 * overwritten right away — was ~10% of the gateway's CPU in bench/gateway's profile (FastBuffer
 * under Encoder.ensureAvailable). The Encoder only ever exposes `buf.slice(0, offset)` (its
 * `buffer` getter; writeEncoder and writeEncoderArray read through it too), so bytes past
 * `offset` never reach the wire and the growth can use Buffer.allocUnsafe.
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
}

interface EncoderClass {
  prototype: EncoderInternals;
  nextPowerOfTwo(n: number): number;
}

let patched = false;

/** Whether kafkajs's Encoder grows without zero-filling (false: kafkajs changed; left as is). */
export function patchKafkajsEncoder(): boolean {
  if (patched) return true;
  const Encoder = kafkajsInternal<EncoderClass>('protocol/encoder');
  const proto = Encoder?.prototype;
  if (
    typeof proto?.ensureAvailable !== 'function' ||
    typeof Encoder?.nextPowerOfTwo !== 'function' ||
    !Object.getOwnPropertyDescriptor(proto, 'buffer')?.get
  ) {
    return false;
  }
  proto.ensureAvailable = function ensureAvailable(this: EncoderInternals, length: number): void {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  patched = true;
  return true;
}

patchKafkajsEncoder();
