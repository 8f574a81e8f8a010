/**
 * Policy dry-run (issue #6 item 3: "dry-run: apply a version to a sample OTLP payload, return
 * the output and which rules fired"; "a policy dry-run returns what the worker produces for
 * the same input and version").
 *
 * It runs a CompiledPolicy in EXACTLY the worker's sequence (apps/worker/src/pipeline/
 * partition-processor.ts), so the only thing that differs is the clock:
 *
 * - traces: `prepareTraces` (attributes → redaction → head sampling); without a tail stage
 *   the prepared batch goes straight to `deliverTraces`; with one, a fresh TailSampler gets
 *   the batch at `now` (`add`, which may decide early on num_traces or the span budget, as in
 *   the worker), then `poll(now + decision_wait)` decides every remaining trace with cause
 *   `decision_wait` — the sample is treated as complete traces, as the worker treats whatever
 *   arrived within decision_wait. The sampled traces are delivered together, in the shape
 *   of the batch that carried them (`deliverTraces` of the prepared batch filtered to them),
 *   as the worker does when it rebuilds kept traces from their Kafka record.
 * - logs: `prepareLogs`, then records carrying a trace id follow the sampler's decision for
 *   that trace (the worker's view once the trace is decided; a trace the sampler never saw
 *   keeps its logs), then `deliverLogs`. The sampler exists only when the sample has traces,
 *   as in the worker, where it is created by the first traces record.
 * - metrics: `redaction.redactMetrics` then `deliverMetrics` (no attributes stage, no
 *   sampling: the worker's order).
 *
 * Per sink, the shares are concatenated in the order the worker submits them to delivery.
 * Routes naming sinks the tenant does not have are the caller's to resolve (the worker counts
 * them as `no_such_sink`): this module knows no sinks.
 *
 * "Which rules fired" comes from what the stages already report — the redaction summary
 * (counts per rule and action, never values), each trace's tail decision (the deciding policy
 * and why) — plus the attributes stage's observable effect, found by running that stage alone
 * on a copy of the input and comparing attribute lists (added / changed / removed keys per
 * target). The copy is only looked at; the output comes from the real pipeline above.
 *
 * Pure: the input is decoded OTLP, the clock is a parameter, nothing is read or written.
 * The input is modified in place (as in the worker); pass a copy to keep it.
 */
import { Buffer } from 'node:buffer';
import type {
  AnyValue,
  KeyValue,
  LogsData,
  MetricsData,
  ResourceSpans,
  TracesData,
} from '@custodian/otlp';
import type { CompiledPolicy, SinkDelivery } from './document/compile';
import type { RedactionAction, RedactionResult } from './redaction';
import type { DecisionCause, DecisionReason } from './sampling';
import { spansOfTraces } from './routes/routes';

/** The sample: any of the three signals, decoded OTLP (the gateway's JSON decoder gives it). */
export interface DryRunSample {
  traces?: TracesData;
  logs?: LogsData;
  metrics?: MetricsData;
}

export interface DryRunOptions {
  /** Clock (ms) at which the sample "arrives"; decisions are taken at now + decision_wait. Default 0. */
  now?: number;
}

export type DryRunSignal = 'traces' | 'logs' | 'metrics';

/** What one sink would receive. */
export interface DryRunSinkOutput {
  /** The sink's name, as the route names it. */
  sink: string;
  /** True when the route is cleared for restricted values and they are sent as they are. */
  restrictedFields: boolean;
  traces?: TracesData;
  logs?: LogsData;
  metrics?: MetricsData;
  spans: number;
  logRecords: number;
  dataPoints: number;
}

/** One trace's tail decision. */
export interface DryRunTraceDecision {
  /** Lowercase hex. */
  traceId: string;
  sampled: boolean;
  reason: DecisionReason;
  /** The deciding tail policy (absent for `no_policy_sampled`). */
  policy?: string;
  cause: DecisionCause;
  spanCount: number;
}

/** Items that reach no sink, with the worker's reason names. */
export interface DryRunDiscard {
  signal: DryRunSignal;
  /** `head_sampled` or `tail_sampled`. */
  reason: string;
  count: number;
}

/** One redaction rule that fired: counts only, never values. */
export interface DryRunRedactionHit {
  signal: DryRunSignal;
  /** Detector, custom pattern or key rule (`email`, `allow_list`, `content`, ...). */
  rule: string;
  action: RedactionAction;
  count: number;
}

export type AttributeTargetKind = 'resource' | 'scope' | 'span' | 'event' | 'link' | 'log';

/** An effect of the attributes stage on one key, summed over the sample. */
export interface DryRunAttributeChange {
  signal: 'traces' | 'logs';
  target: AttributeTargetKind;
  key: string;
  change: 'added' | 'changed' | 'removed';
  count: number;
}

export interface DryRunResult {
  /** custodian.policy.hash of the policy that ran (stamped on every output item). */
  policyHash: string;
  /** Items in the sample. */
  input: { spans: number; logRecords: number; dataPoints: number };
  /** Per sink, in route order of first delivery. */
  sinks: DryRunSinkOutput[];
  traceDecisions: DryRunTraceDecision[];
  discarded: DryRunDiscard[];
  redaction: DryRunRedactionHit[];
  attributeChanges: DryRunAttributeChange[];
}

export function countSpans(rs: readonly ResourceSpans[]): number {
  let n = 0;
  for (const r of rs) for (const s of r.scopeSpans) n += s.spans.length;
  return n;
}

export function countLogRecords(d: LogsData): number {
  let n = 0;
  for (const r of d.resourceLogs) for (const s of r.scopeLogs) n += s.logRecords.length;
  return n;
}

export function countDataPoints(d: MetricsData): number {
  let n = 0;
  for (const r of d.resourceMetrics)
    for (const s of r.scopeMetrics)
      for (const m of s.metrics) {
        const g = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
        n += g ? g.dataPoints.length : 0;
      }
  return n;
}

class SinkCollector {
  private readonly bySink = new Map<string, DryRunSinkOutput>();

  traces(shares: SinkDelivery<TracesData>[]): void {
    for (const s of shares) {
      const out = this.slot(s.sink, s.restrictedFields);
      (out.traces ??= { resourceSpans: [] }).resourceSpans.push(...s.data.resourceSpans);
      out.spans += countSpans(s.data.resourceSpans);
    }
  }

  logs(shares: SinkDelivery<LogsData>[]): void {
    for (const s of shares) {
      const out = this.slot(s.sink, s.restrictedFields);
      (out.logs ??= { resourceLogs: [] }).resourceLogs.push(...s.data.resourceLogs);
      out.logRecords += countLogRecords(s.data);
    }
  }

  metrics(shares: SinkDelivery<MetricsData>[]): void {
    for (const s of shares) {
      const out = this.slot(s.sink, s.restrictedFields);
      (out.metrics ??= { resourceMetrics: [] }).resourceMetrics.push(...s.data.resourceMetrics);
      out.dataPoints += countDataPoints(s.data);
    }
  }

  list(): DryRunSinkOutput[] {
    return [...this.bySink.values()];
  }

  private slot(sink: string, restrictedFields: boolean): DryRunSinkOutput {
    let out = this.bySink.get(sink);
    if (!out) {
      out = { sink, restrictedFields, spans: 0, logRecords: 0, dataPoints: 0 };
      this.bySink.set(sink, out);
    }
    return out;
  }
}

function redactionHits(signal: DryRunSignal, r: RedactionResult, into: DryRunRedactionHit[]) {
  for (const [rule, actions] of Object.entries(r.counts)) {
    for (const [action, count] of Object.entries(actions)) {
      if (count) into.push({ signal, rule, action: action as RedactionAction, count });
    }
  }
}

/** Runs `policy` on the sample the way the worker does (module comment). */
export function dryRunPolicy(
  policy: CompiledPolicy,
  sample: DryRunSample,
  opts: DryRunOptions = {},
): DryRunResult {
  const now = opts.now ?? 0;
  const sinks = new SinkCollector();
  const traceDecisions: DryRunTraceDecision[] = [];
  const discarded: DryRunDiscard[] = [];
  const redaction: DryRunRedactionHit[] = [];
  const changes = new AttributeChanges();
  const discard = (signal: DryRunSignal, reason: string, count: number) => {
    if (count > 0) discarded.push({ signal, reason, count });
  };
  const input = {
    spans: sample.traces ? countSpans(sample.traces.resourceSpans) : 0,
    logRecords: sample.logs ? countLogRecords(sample.logs) : 0,
    dataPoints: sample.metrics ? countDataPoints(sample.metrics) : 0,
  };

  const sampler = sample.traces ? policy.createTailSampler() : undefined;
  if (sample.traces) {
    const data = sample.traces;
    if (!policy.attributes.isEmpty) {
      const probe = structuredClone(data);
      policy.attributes.applyToTraces(probe);
      changes.traces(data, probe);
    }
    const prepared = policy.prepareTraces(data);
    redactionHits('traces', prepared.redaction, redaction);
    discard('traces', 'head_sampled', prepared.headSampledOut);
    if (!sampler) {
      if (countSpans(data.resourceSpans) > 0)
        sinks.traces(policy.deliverTraces(data.resourceSpans));
    } else {
      const decided = sampler.add(data, now);
      decided.push(...sampler.poll(now + sampler.decisionWaitMs));
      let tailOut = 0;
      const kept = new Set<string>();
      for (const d of decided) {
        traceDecisions.push({
          traceId: d.traceId,
          sampled: d.decision.sampled,
          reason: d.decision.reason,
          ...(d.decision.policy !== undefined ? { policy: d.decision.policy } : {}),
          cause: d.cause,
          spanCount: d.spanCount,
        });
        if (!d.decision.sampled) tailOut += d.spanCount;
        else kept.add(d.traceId);
      }
      // As the worker delivers them: the kept traces together, rebuilt in the shape of the
      // batch that carried them (apps/worker's partition processor rebuilds from the record).
      if (kept.size > 0)
        sinks.traces(policy.deliverTraces(spansOfTraces(data.resourceSpans, kept)));
      discard('traces', 'tail_sampled', tailOut);
    }
  }

  if (sample.logs) {
    const data = sample.logs;
    if (!policy.attributes.isEmpty) {
      const probe = structuredClone(data);
      policy.attributes.applyToLogs(probe);
      changes.logs(data, probe);
    }
    const prepared = policy.prepareLogs(data);
    redactionHits('logs', prepared.redaction, redaction);
    discard('logs', 'head_sampled', prepared.headSampledOut);
    let dropped = 0;
    if (sampler) {
      for (const rl of data.resourceLogs)
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
    discard('logs', 'tail_sampled', dropped);
    if (countLogRecords(data) > 0) sinks.logs(policy.deliverLogs(data));
  }

  if (sample.metrics) {
    const data = sample.metrics;
    redactionHits('metrics', policy.redaction.redactMetrics(data), redaction);
    if (countDataPoints(data) > 0) sinks.metrics(policy.deliverMetrics(data));
  }

  return {
    policyHash: policy.hash,
    input,
    sinks: sinks.list(),
    traceDecisions,
    discarded,
    redaction,
    attributeChanges: changes.list(),
  };
}

// ---------------------------------------------------------------------------------------------
// The attributes stage's effect: before/after attribute lists of the same structure compared
// key by key. Values are compared by a canonical text form (bigint and bytes included).

function valueText(v: AnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return `s:${v.stringValue}`;
  if (v.boolValue !== undefined) return `b:${v.boolValue}`;
  if (v.intValue !== undefined) return `i:${v.intValue.toString()}`;
  if (v.doubleValue !== undefined) return `d:${v.doubleValue}`;
  if (v.bytesValue !== undefined) return `y:${Buffer.from(v.bytesValue).toString('base64')}`;
  if (v.arrayValue) return `a:[${v.arrayValue.values.map(valueText).join(',')}]`;
  if (v.kvlistValue)
    return `m:{${v.kvlistValue.values.map((kv) => `${JSON.stringify(kv.key)}=${valueText(kv.value)}`).join(',')}}`;
  return '';
}

class AttributeChanges {
  private readonly counts = new Map<string, DryRunAttributeChange>();

  traces(before: TracesData, after: TracesData): void {
    before.resourceSpans.forEach((rs, i) => {
      const ars = after.resourceSpans[i];
      this.compare('traces', 'resource', rs.resource?.attributes, ars.resource?.attributes);
      rs.scopeSpans.forEach((ss, j) => {
        const ass = ars.scopeSpans[j];
        this.compare('traces', 'scope', ss.scope?.attributes, ass.scope?.attributes);
        ss.spans.forEach((s, k) => {
          const as = ass.spans[k];
          this.compare('traces', 'span', s.attributes, as.attributes);
          s.events.forEach((e, m) =>
            this.compare('traces', 'event', e.attributes, as.events[m].attributes),
          );
          s.links.forEach((l, m) =>
            this.compare('traces', 'link', l.attributes, as.links[m].attributes),
          );
        });
      });
    });
  }

  logs(before: LogsData, after: LogsData): void {
    before.resourceLogs.forEach((rl, i) => {
      const arl = after.resourceLogs[i];
      this.compare('logs', 'resource', rl.resource?.attributes, arl.resource?.attributes);
      rl.scopeLogs.forEach((sl, j) => {
        const asl = arl.scopeLogs[j];
        this.compare('logs', 'scope', sl.scope?.attributes, asl.scope?.attributes);
        sl.logRecords.forEach((r, k) =>
          this.compare('logs', 'log', r.attributes, asl.logRecords[k].attributes),
        );
      });
    });
  }

  list(): DryRunAttributeChange[] {
    return [...this.counts.values()];
  }

  private compare(
    signal: 'traces' | 'logs',
    target: AttributeTargetKind,
    before: readonly KeyValue[] | undefined,
    after: readonly KeyValue[] | undefined,
  ): void {
    const b = new Map((before ?? []).map((kv) => [kv.key, valueText(kv.value)]));
    const a = new Map((after ?? []).map((kv) => [kv.key, valueText(kv.value)]));
    for (const [key, v] of a) {
      if (!b.has(key)) this.bump(signal, target, key, 'added');
      else if (b.get(key) !== v) this.bump(signal, target, key, 'changed');
    }
    for (const key of b.keys()) if (!a.has(key)) this.bump(signal, target, key, 'removed');
  }

  private bump(
    signal: 'traces' | 'logs',
    target: AttributeTargetKind,
    key: string,
    change: DryRunAttributeChange['change'],
  ): void {
    const id = `${signal}\u0000${target}\u0000${key}\u0000${change}`;
    const c = this.counts.get(id);
    if (c) c.count++;
    else this.counts.set(id, { signal, target, key, change, count: 1 });
  }
}
