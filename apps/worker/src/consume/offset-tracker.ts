/**
 * What may be committed on one partition. A record stays pending until every piece of it is
 * decided and delivered or durably queued — with tail sampling, a record's spans can wait in
 * trace buffers long after later records are done — and the committed offset never passes the
 * oldest pending record (../shared/ARCHITECTURE.md, "Reliability rules": at-least-once with
 * tail sampling). Offsets are Kafka's int64 strings; they arrive in increasing order.
 */
export class OffsetTracker {
  /** Pending units per offset, in arrival (= offset) order. */
  private readonly pending = new Map<bigint, number>();
  private highestSeen = -1n;
  private lastCommitted = -1n;

  /** A record at `offset` with `units` outstanding pieces (0 = already done). */
  add(offset: string | bigint, units: number): void {
    const o = BigInt(offset);
    if (o <= this.highestSeen) {
      throw new Error(
        `offset ${o} is not after ${this.highestSeen}: records must be added in order`,
      );
    }
    this.highestSeen = o;
    if (units > 0) this.pending.set(o, units);
  }

  /**
   * Whether the record at `offset` was already added. A rebalance that leaves a partition with
   * this worker still makes kafkajs fetch it again from the committed offset; the records up to
   * the highest seen are already here (pending or done), and handling them again would throw.
   */
  seen(offset: string | bigint): boolean {
    return BigInt(offset) <= this.highestSeen;
  }

  /** `units` pieces of the record at `offset` are decided and delivered or durably queued. */
  release(offset: string | bigint, units = 1): void {
    const o = BigInt(offset);
    const left = this.pending.get(o);
    if (left === undefined) throw new Error(`offset ${o} has nothing pending`);
    if (units > left) throw new Error(`offset ${o}: releasing ${units} of ${left} pending units`);
    if (left === units) this.pending.delete(o);
    else this.pending.set(o, left - units);
  }

  /** Records seen and not yet fully done. */
  get pendingRecords(): number {
    return this.pending.size;
  }

  /**
   * The offset to commit (Kafka's "next offset to read"), or undefined when nothing new can be
   * committed: the oldest pending record, or one past the newest record when none is pending.
   */
  committable(): string | undefined {
    let next = this.highestSeen + 1n;
    // Map iteration is insertion order, and insertion order is offset order.
    for (const o of this.pending.keys()) {
      next = o;
      break;
    }
    if (next <= this.lastCommitted || this.highestSeen < 0n) return undefined;
    return next.toString();
  }

  /** Records that `offset` was committed, so the same offset is not committed twice. */
  committed(offset: string): void {
    const o = BigInt(offset);
    if (o > this.lastCommitted) this.lastCommitted = o;
  }
}
