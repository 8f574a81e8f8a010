import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { KeyValue, MetricsData } from '@custodian/otlp';
import {
  agentTrace,
  allSpans,
  attr,
  batch,
  logBatch,
  logRecord,
  traceId,
} from '../../testdata/fixtures';
import { compilePolicy } from './compile';
import { canonicalJson, POLICY_HASH_ATTRIBUTE, policyHash } from './hash';
import { parsePolicy, serializePolicy, type PolicyDocument } from './policy';

const hmacKey = new Uint8Array(32).fill(3);
const dir = join(__dirname, '../../testdata/policies');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');
const agentDoc = () => parsePolicy(read('agent-platform.yaml'), 'yaml').policy!;
const hashOf = (attrs: KeyValue[]) =>
  attrs.find((a) => a.key === POLICY_HASH_ATTRIBUTE)?.value.stringValue;

/** The same value with every object's keys in a shuffled order. */
function shuffledKeys(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledKeys(v, rand));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j], entries[i]];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffledKeys(v, rand)]));
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order and leaves out undefined members', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 'x' }], a: undefined, c: null, d: true })).toBe(
      '{"b":[3,{"a":"x","z":1}],"c":null,"d":true}',
    );
  });
});

describe('policyHash', () => {
  it('is the SHA-256 hex of the canonical JSON of the normalized document', () => {
    const doc = agentDoc();
    expect(policyHash(doc)).toMatch(/^[0-9a-f]{64}$/);
    expect(policyHash(doc)).toBe(createHash('sha256').update(canonicalJson(doc)).digest('hex'));
    expect(compilePolicy(doc, { hmacKey }).hash).toBe(policyHash(doc));
  });

  it('is the same for the same content in JSON or YAML, in any key order', () => {
    const doc = agentDoc();
    const expected = policyHash(doc);
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom('json' as const, 'yaml' as const), (seed, fmt) => {
        let s = seed >>> 0;
        const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
        const text = serializePolicy(shuffledKeys(doc, rand) as PolicyDocument, fmt);
        const again = parsePolicy(text, fmt);
        expect(again.problems).toEqual([]);
        expect(policyHash(again.policy!)).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('is the same whether defaults are left implicit or spelled out', () => {
    const implicit = parsePolicy(read('minimal.json'), 'json').policy!;
    const explicit = parsePolicy(serializePolicy(implicit, 'yaml'), 'yaml').policy!;
    expect(serializePolicy(implicit, 'yaml').length).toBeGreaterThan(read('minimal.json').length);
    expect(policyHash(explicit)).toBe(policyHash(implicit));
  });

  it('changes with any change of behaviour: a threshold, a policy position, a route', () => {
    const base = agentDoc();
    const h = policyHash(base);
    const threshold = structuredClone(base);
    threshold.sampling.tail!.policies[1].latency!.threshold_ms = 60_001;
    const reordered = structuredClone(base);
    reordered.sampling.tail!.policies.reverse();
    const route = structuredClone(base);
    route.routes[1].restricted_fields = true;
    const hashes = [h, ...[threshold, reordered, route].map(policyHash)];
    expect(new Set(hashes).size).toBe(4);
  });
});

describe('the policy hash stamp on delivered data', () => {
  const doc = agentDoc();
  const compiled = compilePolicy(doc, { hmacKey });

  it('is on every span of every sink delivery, cleared or not, overwriting a tenant value', () => {
    const spans = agentTrace(traceId(4), 12, { error: true });
    spans[3].attributes.push(attr(POLICY_HASH_ATTRIBUTE, 'forged'));
    const data = batch(spans);
    compiled.prepareTraces(data);
    const deliveries = compiled.deliverTraces(data.resourceSpans);
    expect(deliveries.map((d) => d.sink)).toEqual(['store', 'honeycomb', 'oncall']);
    for (const d of deliveries) {
      const out = allSpans(d.data);
      expect(out).toHaveLength(12);
      for (const s of out) {
        expect(hashOf(s.attributes)).toBe(compiled.hash);
        expect(s.attributes.filter((a) => a.key === POLICY_HASH_ATTRIBUTE)).toHaveLength(1);
      }
    }
  });

  it('is on every log record delivered', () => {
    const logs = logBatch([
      logRecord({ traceId: traceId(1), severity: 17, body: 'tool failed' }),
      logRecord({ body: 'started' }),
    ]);
    const deliveries = compiled.deliverLogs(logs);
    expect(deliveries.length).toBeGreaterThan(1);
    for (const d of deliveries)
      for (const rl of d.data.resourceLogs)
        for (const sl of rl.scopeLogs)
          for (const r of sl.logRecords) expect(hashOf(r.attributes)).toBe(compiled.hash);
  });

  it('is on every metric data point delivered, of every metric type', () => {
    const point = () => ({
      attributes: [attr('route', '/chat')],
      startTimeUnixNano: 0n,
      timeUnixNano: 1n,
      exemplars: [],
      flags: 0,
    });
    const metrics: MetricsData = {
      resourceMetrics: [
        {
          resource: { attributes: [attr('service.name', 'agent')], droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeMetrics: [
            {
              schemaUrl: '',
              metrics: [
                {
                  name: 'g',
                  description: '',
                  unit: '',
                  metadata: [],
                  gauge: { dataPoints: [{ ...point(), asInt: 1n }] },
                },
                {
                  name: 's',
                  description: '',
                  unit: '',
                  metadata: [],
                  sum: {
                    dataPoints: [
                      { ...point(), asDouble: 1 },
                      { ...point(), asDouble: 2 },
                    ],
                    aggregationTemporality: 2,
                    isMonotonic: true,
                  },
                },
                {
                  name: 'h',
                  description: '',
                  unit: '',
                  metadata: [],
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        ...point(),
                        count: 1n,
                        bucketCounts: [1n],
                        explicitBounds: [],
                      },
                    ],
                  },
                },
                {
                  name: 'q',
                  description: '',
                  unit: '',
                  metadata: [],
                  summary: {
                    dataPoints: [
                      {
                        attributes: [],
                        startTimeUnixNano: 0n,
                        timeUnixNano: 1n,
                        count: 1n,
                        sum: 1,
                        quantileValues: [],
                        flags: 0,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const deliveries = compiled.deliverMetrics(metrics);
    expect(deliveries.length).toBeGreaterThan(0);
    for (const d of deliveries) {
      const ms = d.data.resourceMetrics[0].scopeMetrics[0].metrics;
      const points = [
        ...ms[0].gauge!.dataPoints,
        ...ms[1].sum!.dataPoints,
        ...ms[2].histogram!.dataPoints,
        ...ms[3].summary!.dataPoints,
      ];
      expect(points).toHaveLength(5);
      for (const p of points) expect(hashOf(p.attributes)).toBe(compiled.hash);
    }
  });

  it('differs between two versions of a policy, so output says which one shaped it', () => {
    const v2 = structuredClone(doc);
    v2.sampling.tail!.policies[0].status_code!.status_codes = ['ERROR', 'UNSET'];
    const other = compilePolicy(v2, { hmacKey });
    const data = batch([agentTrace(traceId(5), 1)[0]]);
    const [a] = compiled.deliverTraces(structuredClone(data).resourceSpans);
    const [b] = other.deliverTraces(structuredClone(data).resourceSpans);
    expect(hashOf(allSpans(a.data)[0].attributes)).toBe(compiled.hash);
    expect(hashOf(allSpans(b.data)[0].attributes)).toBe(other.hash);
    expect(other.hash).not.toBe(compiled.hash);
  });
});
