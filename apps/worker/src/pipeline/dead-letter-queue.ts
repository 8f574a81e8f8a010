/**
 * Puts poison records on the dead-letter topic (issue #5 "Proven by tests": a poison record
 * goes to a dead-letter topic, the partition keeps flowing).
 *
 * The choice when the produce fails: retry with exponential backoff capped at `maxBackoffMs`,
 * for as long as it takes, while the partition keeps flowing. The record's offset stays
 * uncommitted meanwhile (the processor holds it), so nothing is lost — a crash re-reads it —
 * and no later record waits for it: they are processed and delivered, only the commit stops.
 * The alternatives were worse: blocking the partition would turn a Kafka hiccup on one topic
 * into a stall of every tenant on that partition, and giving up after N tries would drop
 * the record. The cost of the choice: if the dead-letter topic stays unwritable, the commit
 * of that partition stays behind (visible as custodian_worker_consumer_lag and in the retry
 * counter), and a restart re-reads what followed (duplicates, never loss). Attempts stop on
 * close(); put() then rejects and the offset stays held.
 */
import type { DeadLetters, PoisonRecord } from './ports';

export interface DeadLetterQueueOptions {
  /** One produce attempt; resolves once the broker acknowledged. */
  send: (rec: PoisonRecord) => Promise<void>;
  /** Backoff before the first retry, doubled per attempt. */
  initialBackoffMs?: number;
  /** Upper bound of one backoff. */
  maxBackoffMs?: number;
  /** A record durably dead-lettered (tenant, signal, reason). */
  onDeadLettered?: (rec: PoisonRecord) => void;
  /** A failed attempt that will be retried. */
  onRetry?: (rec: PoisonRecord, err: unknown, attempt: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

export class DeadLetterQueue implements DeadLetters {
  private closed = false;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly opts: DeadLetterQueueOptions) {}

  async put(rec: PoisonRecord): Promise<void> {
    const initial = this.opts.initialBackoffMs ?? 100;
    const max = this.opts.maxBackoffMs ?? 5_000;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('dead-letter queue closed');
      try {
        await this.opts.send(rec);
        this.opts.onDeadLettered?.(rec);
        return;
      } catch (err) {
        if (this.closed) throw new Error('dead-letter queue closed', { cause: err });
        this.opts.onRetry?.(rec, err, attempt);
        await this.wait(Math.min(max, initial * 2 ** Math.min(attempt - 1, 20)));
      }
    }
  }

  /** Stops retrying: pending put()s reject (their offsets stay uncommitted). */
  close(): void {
    this.closed = true;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  private wait(ms: number): Promise<void> {
    if (this.opts.sleep) return this.opts.sleep(ms);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
