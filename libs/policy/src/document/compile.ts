/**
 * Compiles a validated policy document once per version into the ordered pipeline the worker
 * runs (ARCHITECTURE.md, "Data flow"):
 *
 *   attributes → redaction → sampling (head, then tail) → retention class → routes
 *
 * The worker drives it in two halves around the (stateful, per-partition) TailSampler:
 * - `prepareTraces` / `prepareLogs`: attributes, redaction and head sampling, in place, on a
 *   decoded batch. Head-sampled-out items are removed and counted, never silently lost.
 * - `createTailSampler()` → TailSampler fed with the prepared batch; for what it decides
 *   sampled (and, without a tail stage, for the prepared batch itself):
 * - `deliverTraces` / `deliverLogs` / `deliverMetrics`: retention class, the policy hash
 *   stamp (`custodian.policy.hash`, see ./hash.ts), then routes; sinks not cleared for
 *   restricted fields receive a copy with those values replaced.
 *
 * Everything here is pure: compiled regexes, evaluators and the HMAC key live in closures.
 */
import type { KeyValue, LogsData, MetricsData, ResourceSpans, TracesData } from '@custodian/otlp';
import { type AttributeContext, CompiledAttributes } from '../attributes/processor';
import {
  compileRedaction,
  type CompiledRedaction,
  type RedactionResult,
  stripRestrictedLogs,
  stripRestrictedMetrics,
  stripRestrictedTraces,
} from '../redaction';
import { CompiledRetention } from '../retention/retention';
import { CompiledRoutes } from '../routes/routes';
import { HeadSampler } from '../sampling/head';
import { TailSampler, type TailSamplerOptions } from '../sampling/tail-sampler';
import { policyHash, policyHashAttribute, stampLogs, stampMetrics, stampSpans } from './hash';
import type { PolicyDocument } from './policy';

/** The pipeline's stages, in the order they run. */
export const PIPELINE_STAGES = [
  'attributes',
  'redaction',
  'sampling',
  'retention',
  'routes',
] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface PolicyCompileOptions {
  /** The tenant's HMAC key (≥ 16 bytes) for `hash` actions in attributes and redaction. */
  hmacKey: Uint8Array;
  /** false: redaction's prefilter pass in JavaScript, not WebAssembly (benchmark comparisons). */
  simdPrefilter?: boolean;
}

export interface PreparedTraces {
  /** The batch after attributes, redaction and head sampling (the input, modified in place). */
  data: TracesData;
  /** Spans removed by head sampling. */
  headSampledOut: number;
  redaction: RedactionResult;
}

export interface PreparedLogs {
  data: LogsData;
  /** Log records removed by head sampling (only records with a trace id are sampled). */
  headSampledOut: number;
  redaction: RedactionResult;
}

/** What one sink receives. */
export interface SinkDelivery<T> {
  sink: string;
  /** True when the sink is cleared and `data` still holds restricted values. */
  restrictedFields: boolean;
  data: T;
}

export class CompiledPolicy {
  readonly stages: readonly PipelineStage[] = PIPELINE_STAGES;
  readonly attributes: CompiledAttributes;
  readonly redaction: CompiledRedaction;
  readonly head: HeadSampler;
  readonly retention: CompiledRetention;
  readonly routes: CompiledRoutes;
  /** SHA-256 hex of the canonical normalized document; stamped on everything delivered. */
  readonly hash: string;
  private readonly hashKv: KeyValue;

  constructor(
    readonly document: PolicyDocument,
    opts: PolicyCompileOptions,
  ) {
    this.attributes = new CompiledAttributes(document.attributes, { hmacKey: opts.hmacKey });
    this.redaction = compileRedaction(document.redaction, {
      hmacKey: opts.hmacKey,
      simdPrefilter: opts.simdPrefilter,
    });
    this.head = new HeadSampler(document.sampling.head ?? { sampling_percentage: 100 });
    this.retention = new CompiledRetention(document.retention);
    this.routes = new CompiledRoutes(document.routes);
    this.hash = policyHash(document);
    this.hashKv = policyHashAttribute(this.hash);
  }

  /** True when the policy has a tail stage (the worker then buffers traces). */
  get hasTailSampling(): boolean {
    return this.document.sampling.tail !== undefined;
  }

  /** A fresh TailSampler (one per partition the worker owns); undefined without a tail stage. */
  createTailSampler(opts?: TailSamplerOptions): TailSampler | undefined {
    const tail = this.document.sampling.tail;
    return tail ? new TailSampler(tail, opts) : undefined;
  }

  /**
   * attributes → redaction → head sampling, in place. `headOnly`: head sampling alone, for a
   * tail sampler that decides on what preparing never changes (`needsPreparedSpans` false):
   * the spans it drops then skip attributes and redaction, and the caller prepares the kept
   * ones with prepareTracesAgain before they go anywhere.
   */
  prepareTraces(
    data: TracesData,
    ctx?: AttributeContext,
    opts?: { headOnly?: boolean },
  ): PreparedTraces {
    if (opts?.headOnly === true) {
      const redaction = { counts: {}, total: 0, removed: 0, restricted: 0 };
      return { data, headSampledOut: this.headSample(data), redaction };
    }
    return this.prepareWhole(data, ctx);
  }

  /**
   * The same as prepareTraces (it is deterministic: the same input gives the same output),
   * for spans that went through prepareTraces once already and are being rebuilt from their
   * source: the worker's tail stage keeps Kafka records rather than decoded spans and prepares
   * the kept traces again. Whatever observes prepareTraces (span metrics) must not see them
   * twice, so it is a method of its own.
   */
  prepareTracesAgain(data: TracesData, ctx?: AttributeContext): PreparedTraces {
    return this.prepareWhole(data, ctx);
  }

  private prepareWhole(data: TracesData, ctx?: AttributeContext): PreparedTraces {
    if (!this.attributes.isEmpty) this.attributes.applyToTraces(data, ctx);
    const redaction = this.redaction.redactTraces(data);
    return { data, headSampledOut: this.headSample(data), redaction };
  }

  /** Head sampling of a trace batch, in place; returns how many spans it left out. */
  private headSample(data: TracesData): number {
    let out = 0;
    if (this.head.keepsAll) return out;
    for (const rs of data.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        const before = ss.spans.length;
        ss.spans = ss.spans.filter((s) => this.head.keep(s.traceId));
        out += before - ss.spans.length;
      }
    }
    return out;
  }

  /** attributes → redaction → head sampling (records with a trace id), in place. */
  prepareLogs(data: LogsData, ctx?: AttributeContext): PreparedLogs {
    if (!this.attributes.isEmpty) this.attributes.applyToLogs(data, ctx);
    const redaction = this.redaction.redactLogs(data);
    let headSampledOut = 0;
    if (!this.head.keepsAll) {
      for (const rl of data.resourceLogs) {
        for (const sl of rl.scopeLogs) {
          const before = sl.logRecords.length;
          sl.logRecords = sl.logRecords.filter(
            (r) => r.traceId.length !== 16 || this.head.keep(r.traceId),
          );
          headSampledOut += before - sl.logRecords.length;
        }
      }
    }
    return { data, headSampledOut, redaction };
  }

  /** retention → routes for sampled spans (a tail sampler output, or a prepared batch). */
  deliverTraces(spans: ResourceSpans[]): SinkDelivery<TracesData>[] {
    this.retention.applyToTraces({ resourceSpans: spans });
    stampSpans(spans, this.hashKv);
    return this.routes.routeTraces(spans).map((r) => {
      const data: TracesData = { resourceSpans: r.spans };
      return {
        sink: r.sink,
        restrictedFields: r.restrictedFields,
        data: r.restrictedFields ? data : stripRestrictedTraces(data),
      };
    });
  }

  /** retention → routes for logs that passed sampling. */
  deliverLogs(data: LogsData): SinkDelivery<LogsData>[] {
    this.retention.applyToLogs(data);
    stampLogs(data, this.hashKv);
    return this.routes.routeLogs(data).map((r) => ({
      sink: r.sink,
      restrictedFields: r.restrictedFields,
      data: r.restrictedFields ? r.logs : stripRestrictedLogs(r.logs),
    }));
  }

  /** Hash stamp, then routes for metrics (neither sampled nor classed for retention here). */
  deliverMetrics(data: MetricsData): SinkDelivery<MetricsData>[] {
    stampMetrics(data, this.hashKv);
    return this.routes.routeMetrics(data).map((r) => ({
      sink: r.sink,
      restrictedFields: r.restrictedFields,
      data: r.restrictedFields ? r.metrics : stripRestrictedMetrics(r.metrics),
    }));
  }
}

/** Compiles a validated document. Throws only on a document that skipped validation. */
export function compilePolicy(policy: PolicyDocument, opts: PolicyCompileOptions): CompiledPolicy {
  return new CompiledPolicy(policy, opts);
}
