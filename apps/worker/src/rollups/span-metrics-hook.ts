/**
 * Feeds the span metrics aggregator from the pipeline without touching it, through the
 * PolicySource port (../pipeline/ports.ts): the compiled policy a tenant's batches run through
 * is wrapped so that
 * - `prepareTraces(data)` first shows the aggregator every span of the batch — this is the
 *   first thing the pipeline does with a decoded trace batch, before attributes, redaction and
 *   head sampling, so the metrics count every span, before any sampling;
 * - `deliverTraces(spans)` (called for exactly the spans sampling kept, late spans included)
 *   marks their traces kept, so exemplars point at traces one can open.
 *
 * The wrapper is an object whose prototype is the compiled policy (every other member is the
 * policy's own), made once per tenant and policy version: the pipeline compares policies by
 * identity to notice a new version, and gets the same wrapper back as long as the version is
 * the same.
 */
import type { ResourceSpans, TracesData } from '@custodian/otlp';
import type { CompiledPolicy } from '@custodian/policy';
import type { PolicySource } from '../pipeline/ports';
import type { SpanMetricsAggregator } from './span-metrics-aggregator';

export function observeSpanMetrics(
  source: PolicySource,
  aggregator: SpanMetricsAggregator,
  now: () => number = Date.now,
): PolicySource {
  const wrapped = new Map<string, { policy: CompiledPolicy; wrapper: CompiledPolicy }>();
  return {
    async get(tenantId: string): Promise<CompiledPolicy> {
      const policy = await source.get(tenantId);
      const hit = wrapped.get(tenantId);
      if (hit && hit.policy === policy) return hit.wrapper;
      const wrapper = Object.create(policy) as CompiledPolicy;
      Object.defineProperties(wrapper, {
        prepareTraces: {
          value: (data: TracesData, ...rest: unknown[]) => {
            aggregator.observe(tenantId, data, now());
            return (policy.prepareTraces as (...a: unknown[]) => unknown).call(
              policy,
              data,
              ...rest,
            );
          },
        },
        deliverTraces: {
          value: (spans: ResourceSpans[]) => {
            const seen = new Set<string>();
            for (const rs of spans)
              for (const ss of rs.scopeSpans)
                for (const s of ss.spans) {
                  if (s.traceId.length !== 16) continue;
                  const hex = Buffer.from(s.traceId.buffer, s.traceId.byteOffset, 16).toString(
                    'hex',
                  );
                  if (!seen.has(hex)) {
                    seen.add(hex);
                    aggregator.kept(tenantId, hex);
                  }
                }
            return policy.deliverTraces(spans);
          },
        },
      });
      wrapped.set(tenantId, { policy, wrapper });
      return wrapper;
    },
  };
}
