/**
 * splitTraces (the gateway's trace-id splitter) on a realistic 512-span agent-run export,
 * against the baseline it replaces: full decode to objects, group by partition, re-encode.
 * Gateway budget for context: ~6.7 µs per span for everything.
 *
 *   node --require ./bench/register.js bench/otlp/split.bench.ts
 */
import {
  decodeTraces,
  encodeTraces,
  partitionOfTraceId,
  splitTraces,
  type ResourceSpans,
  type TracesData,
} from '@custodian/otlp';
import { agentRunPayload } from './agent-payload';
import { measure } from './harness';

const PARTITIONS = 12;
const { spans, bytes } = agentRunPayload();
const n = spans.length;

/** The naive gateway: decode everything, regroup per partition, encode each group. */
function decodeRegroupEncode(input: Uint8Array): Uint8Array[] {
  const data = decodeTraces(input);
  const byPartition = new Map<number, TracesData>();
  for (const rs of data.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const p = partitionOfTraceId(span.traceId, PARTITIONS);
        let out = byPartition.get(p);
        if (!out) byPartition.set(p, (out = { resourceSpans: [] }));
        let ors: ResourceSpans | undefined = out.resourceSpans.find(
          (x) => x.resource === rs.resource,
        );
        if (!ors) out.resourceSpans.push((ors = { ...rs, scopeSpans: [] }));
        let oss = ors.scopeSpans.find((x) => x.scope === ss.scope);
        if (!oss) ors.scopeSpans.push((oss = { ...ss, spans: [] }));
        oss.spans.push(span);
      }
    }
  }
  return [...byPartition.values()].map(encodeTraces);
}

const check = splitTraces(bytes, { partitions: PARTITIONS });
if (check.spans !== n) throw new Error(`split lost spans: ${check.spans} of ${n}`);
console.log(
  JSON.stringify({
    payload: { spans: n, bytes: bytes.length, parts: check.parts.length, partitions: PARTITIONS },
  }),
);

measure('splitTraces (wire walk + re-frame)', n, bytes.length, () =>
  splitTraces(bytes, {
    partitions: PARTITIONS,
    maxAttributesPerItem: 128,
    maxAttributeValueBytes: 64 * 1024,
  }),
);
measure('baseline: decodeTraces + regroup + encodeTraces', n, bytes.length, () =>
  decodeRegroupEncode(bytes),
);
