/**
 * One Kafka partition's pipeline: decode → the tenant's policy (attributes → redaction → head
 * sampling) → tail sampling in per-tenant trace buffers → retention and routes → durable
 * delivery; and the bookkeeping that makes at-least-once hold with tail sampling: every record
 * stays pending in the OffsetTracker until each trace it carried is decided and, if kept,
 * handed durably to every sink it routes to (../shared/ARCHITECTURE.md, "Reliability rules").
 *
 * Records are handled one at a time in offset order (the consumer awaits handle()); decisions
 * due by time come from tick(). Nothing is dropped silently: every item that does not reach a
 * sink is counted with a reason.
 *
 * While traces wait for their tail decision, the processor holds the Kafka records that carried
 * them (their bytes, off the V8 heap), not the decoded spans: the sampler keeps only what
 * deciding needs (TailSampler `retainSpans: false`). A kept trace is rebuilt from its records —
 * decoded again with a trace-id filter that skips the other traces' spans unread, and prepared
 * again (preparing is deterministic) — and most traces are not kept. Holding decoded spans for
 * decision_wait made every span's objects survive young-generation collections and be copied
 * into the old generation: more CPU than decoding and preparing the kept share twice (issue
 * #5; bench/worker/pipeline.bench.ts).
 */
import {
  AttributeKeys,
  decodeLogs,
  decodeMetrics,
  decodeTraces,
  type LogsData,
  type MetricsData,
  type ResourceSpans,
  type TracesData,
} from '@custodian/otlp';
import {
  applySinkClearance,
  type CompiledPolicy,
  type DecidedTrace,
  type TailBufferBudget,
  type TailSampler,
} from '@custodian/policy';
import { OffsetTracker } from '../consume/offset-tracker';
import type {
  DeadLetters,
  PoisonRecord,
  Delivery,
  PolicySource,
  RecordHeaders,
  Signal,
  SinkSource,
} from './ports';

export interface RecordIn {
  offset: string;
  tenantId: string | undefined;
  signal: Signal;
  value: Buffer | null;
  /** Where the record came from and what it carried, for the dead-letter topic. */
  partition?: number;
  key?: Buffer | null;
  headers?: RecordHeaders;
}

/** Counters the processor reports into; labels are (tenant, signal, reason/outcome). */
export interface PipelineCounters {
  /** Items dropped before any sink, by reason (undecodable, no_tenant, tenant_key_unavailable, head_sampled, tail_sampled, no_such_sink, ...). */
  discarded(tenantId: string, signal: Signal, reason: string, n: number): void;
  /** Items handed to delivery, per sink. */
  routed(tenantId: string, signal: Signal, sink: string, n: number): void;
  /** Traces decided by the tail sampler, by outcome and cause. */
  decided(tenantId: string, sampled: boolean, cause: string): void;
  /**
   * Items delivered to a sink with their restricted values replaced, because the route allowed
   * restricted values but the sink is not cleared for them.
   */
  restrictedWithheld?(tenantId: string, signal: Signal, sink: string, n: number): void;
}

interface Holds {
  /** offset → units this trace holds on that record */
  offsets: Map<string, number>;
}

/** A traces record kept while traces it carried are in a tail sampler. */
interface HeldRecord {
  value: Buffer;
  /** The record as consumed (partition, key, headers), for the dead-letter topic. */
  source: RecordIn;
  /** Units (traces) still buffered; the bytes are let go at zero. */
  refs: number;
  /** Set once the record went to the dead-letter topic: true when it is durable there. */
  deadLettered?: Promise<boolean>;
}

/**
 * Held bytes charged per buffered span beyond its share of its record: the sampler's per-trace
 * state and map entries, spread over a trace's spans.
 */
const SPAN_STATE_BYTES = 48;

const HEAD_ONLY = { headOnly: true } as const;

/** Kept traces rebuilt at once before they are routed (one delivery submission per group). */
const REBUILD_BATCH_SPANS = 2048;

function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

/** What the dead-letter topic gets for a record that cannot be processed. */
function poisonRecord(
  rec: RecordIn,
  partition: number,
  value: Buffer | null,
  tenantId: string,
  reason: string,
  error: string,
): PoisonRecord {
  return {
    signal: rec.signal,
    partition,
    offset: rec.offset,
    key: rec.key ?? null,
    value,
    headers: rec.headers ?? {},
    tenantId,
    reason,
    error,
  };
}

/** One offset per unit a trace holds (units are released one by one). */
function unitsOf(h: Holds): string[] {
  const out: string[] = [];
  for (const [o, n] of h.offsets) for (let i = 0; i < n; i++) out.push(o);
  return out;
}

function countSpans(rs: readonly ResourceSpans[]): number {
  let n = 0;
  for (const r of rs) for (const s of r.scopeSpans) n += s.spans.length;
  return n;
}

function countLogs(d: LogsData): number {
  let n = 0;
  for (const r of d.resourceLogs) for (const s of r.scopeLogs) n += s.logRecords.length;
  return n;
}

function countPoints(d: MetricsData): number {
  let n = 0;
  for (const r of d.resourceMetrics) {
    for (const s of r.scopeMetrics) {
      for (const m of s.metrics) {
        const g = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
        n += g ? g.dataPoints.length : 0;
      }
    }
  }
  return n;
}

/**
 * One partition NUMBER across the three topics: the co-partitioning assignor gives a worker
 * partition N of otlp.traces, otlp.logs and otlp.metrics together, so logs meet the tail
 * sampler holding their trace. Each topic keeps its own offsets.
 */
export class PartitionProcessor {
  readonly trackers: Record<Signal, OffsetTracker> = {
    traces: new OffsetTracker(),
    logs: new OffsetTracker(),
    metrics: new OffsetTracker(),
  };
  private readonly samplers = new Map<string, { sampler: TailSampler; policy: CompiledPolicy }>();
  private readonly holds = new Map<string, Holds>();
  /** offset → the traces record, while traces it carried are buffered. */
  private readonly records = new Map<string, HeldRecord>();
  /** Bytes charged per span of the record being added (its share of the record). */
  private heldBytesPerSpan = 0;

  constructor(
    private readonly deps: {
      policies: PolicySource;
      sinks: SinkSource;
      delivery: Delivery;
      counters: PipelineCounters;
      now: () => number;
      /**
       * Where records that cannot be processed go (undecodable, no tenant). Without it they are
       * counted and skipped; with it each is held uncommitted until it is on the topic.
       */
      deadLetters?: DeadLetters;
      /**
       * Retries of a tenant policy that cannot be read for a transient reason (database
       * unreachable), with exponential backoff, before `handle` gives up and throws (the
       * record stays uncommitted and kafkajs retries the batch). Default 5 attempts, 100 ms
       * doubling to at most 2 s.
       */
      policyRetry?: { attempts: number; initialBackoffMs: number; maxBackoffMs: number };
      /**
       * The process-wide tail-buffer budget shared with every other partition's processor
       * (consume/memory-budget.ts): past it, or past a tenant's share, the oldest traces of
       * the largest tenant are decided early (cause `budget`), here or in another partition.
       */
      tailBudget?: TailBufferBudget;
      /**
       * The attributes a first pass must decode for whoever observes prepareTraces (the span
       * metrics: rollups/span-metrics-hook.ts). When the tail stage decides without reading
       * attributes, the first pass decodes a skeleton — these attributes, no events or links —
       * since every kept trace is decoded whole again from its record. Without it, in full.
       */
      firstPassKeys?: { resource: readonly string[]; span: readonly string[] };
      /** Operational log (no payloads, no secrets); a tenant that cannot be processed is logged once. */
      log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
    },
  ) {
    const keys = deps.firstPassKeys;
    this.skeleton = keys && {
      resourceKeys: new AttributeKeys(keys.resource),
      spanKeys: new AttributeKeys(keys.span),
    };
  }

  private readonly skeleton: { resourceKeys: AttributeKeys; spanKeys: AttributeKeys } | undefined;

  /** Tenants already logged as unprocessable by this processor (log once per tenant). */
  private readonly unavailableLogged = new Set<string>();

  /** Traces buffered in this partition's tail samplers. */
  get bufferedTraces(): number {
    return this.holds.size;
  }

  /** Spans and estimated bytes held in this partition's tail samplers (buffer occupancy). */
  get bufferedSpans(): { spans: number; bytes: number } {
    let spans = 0;
    let bytes = 0;
    for (const { sampler } of this.samplers.values()) {
      const s = sampler.stats;
      spans += s.spansBuffered;
      bytes += s.bytesBuffered;
    }
    return { spans, bytes };
  }

  async handle(rec: RecordIn): Promise<void> {
    const { tenantId, signal } = rec;
    if (!tenantId && rec.value) {
      this.poison(rec, 'unknown', 'no_tenant', 'no tenant-id header');
      return;
    }
    if (!tenantId || !rec.value) {
      // A record without a value (a tombstone) carries nothing to keep.
      this.deps.counters.discarded(
        tenantId ?? 'unknown',
        signal,
        tenantId ? 'empty' : 'no_tenant',
        1,
      );
      this.trackers[signal].add(rec.offset, 0);
      return;
    }
    let policy: CompiledPolicy;
    try {
      policy = await this.policyOf(tenantId);
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name === 'UnknownTenantError') {
        // The tenant was deleted after the gateway accepted this: nothing may receive it.
        this.deps.counters.discarded(tenantId, signal, 'unknown_tenant', 1);
        this.trackers[signal].add(rec.offset, 0);
        return;
      }
      if (name === 'TenantPolicyUnavailableError') {
        // Permanent until an operator acts (the tenant's key cannot be decrypted): waiting
        // would stall every tenant on this partition, and processing under another key would
        // be unsafe. The record goes to the dead-letter topic whole, for a redrive once fixed.
        if (!this.unavailableLogged.has(tenantId)) {
          this.unavailableLogged.add(tenantId);
          this.deps.log?.(
            'error',
            "tenant's policy cannot be built; its records go to the dead-letter topic",
            { tenantId, signal, reason: 'tenant_key_unavailable', err: (err as Error).message },
          );
        }
        this.poison(rec, tenantId, 'tenant_key_unavailable', (err as Error).message);
        return;
      }
      // Without the tenant's policy nothing may leave: the record stays uncommitted and is
      // processed again (kafkajs retries the batch) once the policy can be read.
      throw new Error(`policy of tenant ${tenantId} unavailable`, { cause: err });
    }
    this.unavailableLogged.delete(tenantId);
    try {
      if (signal === 'traces') await this.handleTraces(rec, tenantId, policy, rec.value);
      else if (signal === 'logs')
        await this.handleLogs(rec.offset, tenantId, policy, decodeLogs(rec.value));
      else await this.handleMetrics(rec.offset, tenantId, policy, decodeMetrics(rec.value));
    } catch (err) {
      if (err instanceof Error && err.name === 'OtlpDecodeError') {
        // The gateway validated it, so this is a poison record (another producer, a bug): it
        // goes to the dead-letter topic and never blocks the partition.
        this.poison(rec, tenantId, 'undecodable', err.message);
        return;
      }
      throw err;
    }
  }

  /**
   * The tenant's policy; a transient failure (anything but an unknown tenant or a policy that
   * cannot be built) is retried with backoff while this record — and so the partition — waits:
   * nothing is committed meanwhile, so nothing is lost.
   */
  private async policyOf(tenantId: string): Promise<CompiledPolicy> {
    const r = this.deps.policyRetry ?? { attempts: 5, initialBackoffMs: 100, maxBackoffMs: 2000 };
    let delay = r.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.policies.get(tenantId);
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        const permanent = name === 'UnknownTenantError' || name === 'TenantPolicyUnavailableError';
        if (permanent || attempt >= r.attempts) throw err;
        this.deps.log?.('warn', 'tenant policy unavailable; retrying', {
          tenantId,
          attempt,
          err: (err as Error).message,
        });
        await new Promise((res) => setTimeout(res, delay));
        delay = Math.min(delay * 2, r.maxBackoffMs);
      }
    }
  }

  /**
   * Counts a record that cannot be processed and hands it to the dead-letter topic. The
   * partition keeps flowing — later records are processed at once — but the commit stops at
   * this record until the dead letter is durable, so a crash meanwhile loses nothing: the
   * next owner reads it (and what follows) again.
   */
  private poison(rec: RecordIn, tenantId: string, reason: string, error: string): void {
    const { signal } = rec;
    this.deps.counters.discarded(tenantId, signal, reason, 1);
    const dlq = this.deps.deadLetters;
    if (!dlq || rec.partition === undefined) {
      this.trackers[signal].add(rec.offset, 0);
      return;
    }
    this.trackers[signal].add(rec.offset, 1);
    const tracker = this.trackers[signal];
    dlq.put(poisonRecord(rec, rec.partition, rec.value, tenantId, reason, error)).then(
      () => tracker.release(rec.offset),
      // Gave up (shutdown): the offset stays held, the record is read again after restart.
      () => undefined,
    );
  }

  /** Decisions that became due by time. */
  async tick(): Promise<void> {
    const now = this.deps.now();
    for (const [tenantId, { sampler, policy }] of this.samplers) {
      const due = sampler.poll(now);
      if (due.length > 0) await this.onDecided(tenantId, policy, due);
    }
  }

  /** Decides every buffered trace now (shutdown): nothing is left pending in memory. */
  async flushAll(): Promise<void> {
    const now = this.deps.now();
    for (const [tenantId, { sampler, policy }] of this.samplers) {
      await this.onDecided(tenantId, policy, sampler.flushAll(now));
    }
  }

  /**
   * The partition is gone (revoked, or the worker stops): its samplers leave the shared
   * budget, so what they held stops counting. Buffered traces not flushed before are dropped
   * uncommitted; the partition's next owner reads their records again.
   */
  close(): void {
    for (const { sampler } of this.samplers.values()) sampler.leaveBudget();
    this.samplers.clear();
    this.records.clear();
  }

  private async handleTraces(
    rec: RecordIn,
    tenantId: string,
    policy: CompiledPolicy,
    value: Buffer,
  ): Promise<void> {
    const offset = rec.offset;
    let entry = this.samplers.get(tenantId);
    if (entry && entry.policy !== policy) {
      // Policy changed: decide what the old sampler holds under the old policy, then switch.
      await this.onDecided(tenantId, entry.policy, entry.sampler.flushAll(this.deps.now()));
      entry.sampler.leaveBudget();
      entry = undefined;
      this.samplers.delete(tenantId);
    }
    if (!entry && policy.hasTailSampling) {
      const sampler = this.createSampler(tenantId, policy);
      if (sampler) {
        entry = { sampler, policy };
        this.samplers.set(tenantId, entry);
      }
    }
    // A tail stage that decides on what preparing never changes lets the spans it drops skip
    // attributes and redaction: only the kept ones are prepared, when they are rebuilt.
    const headOnly = entry !== undefined && !entry.sampler.needsPreparedSpans;
    const data = decodeTraces(value, headOnly && this.skeleton ? { skeleton: this.skeleton } : {});
    const prepared = policy.prepareTraces(data, undefined, headOnly ? HEAD_ONLY : undefined);
    if (prepared.headSampledOut > 0) {
      this.deps.counters.discarded(tenantId, 'traces', 'head_sampled', prepared.headSampledOut);
    }
    if (!entry) {
      // No tail stage: every trace that passed head sampling is kept now.
      const traces = new Set<string>();
      for (const rs of data.resourceSpans)
        for (const ss of rs.scopeSpans) for (const s of ss.spans) traces.add(hex(s.traceId));
      this.trackers.traces.add(offset, traces.size > 0 ? 1 : 0);
      if (traces.size > 0)
        this.route(tenantId, policy, 'traces', policy.deliverTraces(data.resourceSpans), [offset]);
      return;
    }
    // This record holds one unit per distinct trace it carries, released when that trace's
    // spans from it are decided and durably delivered.
    const traces = new Set<string>();
    let spans = 0;
    for (const rs of data.resourceSpans)
      for (const ss of rs.scopeSpans) {
        spans += ss.spans.length;
        for (const s of ss.spans) traces.add(hex(s.traceId));
      }
    if (traces.size > 0) {
      // The value is a view into the record batch kafkajs fetched (decompressed); it is kept
      // as is, not copied: the batch's records arrived together, so their traces are all
      // decided, and the batch let go, at most decision_wait after it was fetched.
      this.records.set(offset, { value, source: rec, refs: traces.size });
      this.heldBytesPerSpan = Math.ceil(value.byteLength / spans) + SPAN_STATE_BYTES;
    }
    for (const t of traces) {
      const key = `${tenantId}:${t}`;
      let h = this.holds.get(key);
      if (!h) {
        h = { offsets: new Map() };
        this.holds.set(key, h);
      }
      h.offsets.set(offset, (h.offsets.get(offset) ?? 0) + 1);
    }
    this.trackers.traces.add(offset, traces.size);
    const decided = entry.sampler.add(data, this.deps.now());
    if (decided.length > 0) await this.onDecided(tenantId, policy, decided);
  }

  /**
   * A tenant's tail sampler for this partition: it holds no spans (the records are held here)
   * and counts the records' bytes against the shared budget.
   */
  private createSampler(tenantId: string, policy: CompiledPolicy): TailSampler | undefined {
    const budget = this.deps.tailBudget;
    return policy.createTailSampler({
      retainSpans: false,
      spanBytes: () => this.heldBytesPerSpan,
      budget: budget && {
        budget,
        tenantId,
        // Decided while another partition (or tenant) was adding: route them now.
        onEvicted: (decided) => {
          this.onDecided(tenantId, policy, decided).catch((err: unknown) =>
            this.deps.log?.('error', 'routing traces decided by the memory budget failed', {
              tenantId,
              err: (err as Error).message,
            }),
          );
        },
      },
    });
  }

  private async onDecided(
    tenantId: string,
    policy: CompiledPolicy,
    decided: DecidedTrace[],
  ): Promise<void> {
    // Kept traces to rebuild from their records: offset → their trace ids → their span counts;
    // and what they hold.
    let rebuild = new Map<string, Map<string, number>>();
    let rebuildHolds: Holds[] = [];
    let rebuildSpans = 0;
    for (const d of decided) {
      const key = `${tenantId}:${d.traceId}`;
      const h = this.holds.get(key);
      this.holds.delete(key);
      this.deps.counters.decided(tenantId, d.decision.sampled, d.cause);
      if (!d.decision.sampled) {
        this.deps.counters.discarded(tenantId, 'traces', 'tail_sampled', d.spanCount);
        if (h) {
          this.letGo(h);
          for (const o of unitsOf(h)) this.trackers.traces.release(o);
        }
        continue;
      }
      // Kept, late spans included: rebuilt from the records (the sampler returns no spans, and
      // what it was given may not have been prepared).
      if (!h) {
        // Cannot happen (every buffered trace has its holds); say so rather than pretend.
        this.deps.counters.discarded(tenantId, 'traces', 'rebuild_failed', d.spanCount);
        this.deps.log?.('error', 'kept trace has no records to rebuild it from', { tenantId });
        continue;
      }
      for (const o of h.offsets.keys()) {
        let ids = rebuild.get(o);
        if (!ids) rebuild.set(o, (ids = new Map()));
        ids.set(d.traceId, d.spanCount);
      }
      rebuildHolds.push(h);
      rebuildSpans += d.spanCount;
      if (rebuildSpans >= REBUILD_BATCH_SPANS) {
        this.rebuildAndRoute(tenantId, policy, rebuild, rebuildHolds);
        rebuild = new Map();
        rebuildHolds = [];
        rebuildSpans = 0;
      }
    }
    if (rebuildHolds.length > 0) this.rebuildAndRoute(tenantId, policy, rebuild, rebuildHolds);
  }

  /**
   * Rebuilds kept traces from the records that carried them — each record decoded once, only
   * the kept traces' spans, prepared again — and routes them together; their units are
   * released once delivery has them. A record that is gone (a bug) is logged and its units
   * stay held: the partition's next owner reads it again, nothing is lost. A record that does
   * not decode whole (only a skeleton was read the first time: a poison record from another
   * producer) is counted and goes to the dead-letter topic whole (once); its units are released
   * only when it is durable there.
   */
  private rebuildAndRoute(
    tenantId: string,
    policy: CompiledPolicy,
    byOffset: Map<string, Map<string, number>>,
    holds: Holds[],
  ): void {
    const resourceSpans: ResourceSpans[] = [];
    let missing = false;
    /** Offsets of records that went to the dead-letter topic → when they are durable there. */
    let deadLettered: Map<string, Promise<boolean>> | undefined;
    for (const [offset, ids] of byOffset) {
      const rec = this.records.get(offset);
      if (!rec) {
        missing = true;
        continue;
      }
      let data: TracesData;
      try {
        data = decodeTraces(rec.value, { traceFilter: (id) => ids.has(hex(id)) });
      } catch (err) {
        if (!(err instanceof Error && err.name === 'OtlpDecodeError')) throw err;
        let spans = 0;
        for (const n of ids.values()) spans += n;
        this.deps.counters.discarded(tenantId, 'traces', 'undecodable', spans);
        const durable = this.deadLetterOnce(rec, tenantId, err.message);
        if (durable) (deadLettered ??= new Map()).set(offset, durable);
        this.deps.log?.('error', 'a record of kept traces does not decode', {
          tenantId,
          offset,
          err: err.message,
          deadLetter: durable !== undefined,
        });
        continue;
      }
      policy.prepareTracesAgain(data);
      for (const rs of data.resourceSpans) resourceSpans.push(rs);
    }
    const release: string[] = [];
    for (const h of holds) {
      this.letGo(h);
      for (const o of unitsOf(h)) {
        const durable = deadLettered?.get(o);
        if (durable === undefined) release.push(o);
        // Its units wait for the dead letter; a give-up (shutdown) leaves them held.
        else void durable.then((ok) => ok && this.trackers.traces.release(o));
      }
    }
    if (missing) {
      this.deps.log?.('error', 'a record of kept traces is no longer held; left uncommitted', {
        tenantId,
      });
      release.length = 0;
    }
    if (resourceSpans.length > 0)
      this.route(tenantId, policy, 'traces', policy.deliverTraces(resourceSpans), release);
    else for (const o of release) this.trackers.traces.release(o);
  }

  /**
   * Puts a held traces record on the dead-letter topic, once however many of its traces fail;
   * resolves true when it is durable. Undefined without a dead-letter topic (counted only).
   */
  private deadLetterOnce(
    held: HeldRecord,
    tenantId: string,
    error: string,
  ): Promise<boolean> | undefined {
    const dlq = this.deps.deadLetters;
    const src = held.source;
    if (!dlq || src.partition === undefined) return undefined;
    held.deadLettered ??= dlq
      .put(poisonRecord(src, src.partition, held.value, tenantId, 'undecodable', error))
      .then(
        () => true,
        () => false,
      );
    return held.deadLettered;
  }

  /** The trace's records are one trace fewer in use; bytes no trace needs are let go. */
  private letGo(h: Holds): void {
    for (const [o, n] of h.offsets) {
      const rec = this.records.get(o);
      if (rec && (rec.refs -= n) <= 0) this.records.delete(o);
    }
  }

  private async handleLogs(
    offset: string,
    tenantId: string,
    policy: CompiledPolicy,
    data: LogsData,
  ): Promise<void> {
    const prepared = policy.prepareLogs(data);
    if (prepared.headSampledOut > 0)
      this.deps.counters.discarded(tenantId, 'logs', 'head_sampled', prepared.headSampledOut);
    // Logs follow their trace's tail decision when it is known; while a trace is still
    // undecided they are kept (a log is never lost for want of a decision).
    const sampler = this.samplers.get(tenantId)?.sampler;
    let dropped = 0;
    if (sampler) {
      for (const rl of data.resourceLogs) {
        for (const sl of rl.scopeLogs) {
          sl.logRecords = sl.logRecords.filter((r) => {
            if (r.traceId.length !== 16) return true;
            const d = sampler.decisionFor(r.traceId);
            const keep = d === undefined || d === 'pending' || d.sampled;
            if (!keep) dropped++;
            return keep;
          });
        }
      }
    }
    if (dropped > 0) this.deps.counters.discarded(tenantId, 'logs', 'tail_sampled', dropped);
    const n = countLogs(data);
    this.trackers.logs.add(offset, n > 0 ? 1 : 0);
    if (n > 0) this.route(tenantId, policy, 'logs', policy.deliverLogs(data), [offset]);
  }

  private async handleMetrics(
    offset: string,
    tenantId: string,
    policy: CompiledPolicy,
    data: MetricsData,
  ): Promise<void> {
    policy.redaction.redactMetrics(data);
    const n = countPoints(data);
    this.trackers.metrics.add(offset, n > 0 ? 1 : 0);
    if (n > 0) this.route(tenantId, policy, 'metrics', policy.deliverMetrics(data), [offset]);
  }

  /**
   * Hands each routed share to its sink; `release` (one offset per unit) is released once every
   * share is durable. Shares for sinks the tenant does not have are counted and skipped. Here
   * routing meets the resolved sink, so here the sink's own clearance is applied: a route's
   * `restricted_fields: true` sends restricted values only to a sink cleared for them.
   */
  private route(
    tenantId: string,
    _policy: CompiledPolicy,
    signal: Signal,
    shares: {
      sink: string;
      restrictedFields: boolean;
      data: TracesData | LogsData | MetricsData;
    }[],
    release: string[],
  ): void {
    let pending = 1; // held until every share is submitted
    const done = () => {
      if (--pending === 0) for (const o of release) this.trackers[signal].release(o);
    };
    void this.deps.sinks.forTenant(tenantId).then(
      (sinks) => {
        for (const share of shares) {
          const items =
            signal === 'traces'
              ? countSpans((share.data as TracesData).resourceSpans)
              : signal === 'logs'
                ? countLogs(share.data as LogsData)
                : countPoints(share.data as MetricsData);
          const sink = sinks.find((s) => s.name === share.sink);
          if (!sink) {
            this.deps.counters.discarded(tenantId, signal, 'no_such_sink', items);
            continue;
          }
          const cleared = applySinkClearance(share, sink);
          if (cleared.withheld)
            this.deps.counters.restrictedWithheld?.(tenantId, signal, sink.name, items);
          pending++;
          this.deps.counters.routed(tenantId, signal, sink.name, items);
          let called = false;
          this.deps.delivery.submit({
            tenantId,
            sink,
            signal,
            data: cleared.data,
            items,
            onDone: () => {
              if (called) return;
              called = true;
              done();
            },
          });
        }
        done();
      },
      () => {
        // Sinks unreadable: keep the units held; the records are re-read after a restart.
        this.deps.counters.discarded(tenantId, signal, 'sinks_unavailable', 0);
      },
    );
  }
}
