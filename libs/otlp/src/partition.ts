/**
 * Which Kafka partition a trace belongs to — part of the Kafka record contract
 * (/work/shared/ARCHITECTURE.md, "Kafka record contract"): records for one trace id always land
 * in the same partition, so one worker sees a whole trace and can tail-sample it.
 *
 * The function is FNV-1a, 32 bits (offset basis 0x811c9dc5, prime 0x01000193;
 * http://www.isthe.com/chongo/tech/comp/fnv/), over the 16 raw trace-id bytes in wire order,
 * taken as an unsigned 32-bit integer, modulo the partition count. It is deliberately simple
 * so every component — gateway, worker, replay tools, any non-JS consumer — computes the same
 * value: SAME FUNCTION EVERYWHERE. Changing it re-homes every in-flight trace; partition.spec.ts
 * pins it with golden vectors so that cannot happen by accident.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit of the 16 bytes at `offset` of `buf`, unsigned. */
export function traceIdHashAt(buf: Uint8Array, offset: number): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = offset, end = offset + 16; i < end; i++) {
    h = Math.imul(h ^ buf[i], FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The partition (0 ≤ result < partitions) of a 16-byte trace id.
 * Throws RangeError for a trace id of another length or a partition count that is not a
 * positive integer: both are caller bugs, not data to route somewhere arbitrary.
 */
export function partitionOfTraceId(traceId: Uint8Array, partitions: number): number {
  if (traceId.length !== 16) {
    throw new RangeError(`trace id must be 16 bytes, got ${traceId.length}`);
  }
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 0xffffffff) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  return traceIdHashAt(traceId, 0) % partitions;
}
