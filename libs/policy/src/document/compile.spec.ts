import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  agentTrace,
  allSpans,
  attr,
  batch,
  logBatch,
  logRecord,
  span,
  traceId,
} from '../../testdata/fixtures';
import { RESTRICTED_KEYS_ATTRIBUTE, RESTRICTED_PLACEHOLDER } from '../redaction';
import { RETENTION_CLASS_ATTRIBUTE, RETENTION_DAYS_ATTRIBUTE } from '../retention/retention';
import { compilePolicy, PIPELINE_STAGES } from './compile';
import { DEFAULT_POLICY } from './defaults';
import { parsePolicy, validatePolicy } from './policy';

const hmacKey = new Uint8Array(32).fill(7);
const valueOf = (
  attrs: { key: string; value: { stringValue?: string; intValue?: bigint } }[],
  key: string,
) => attrs.find((a) => a.key === key)?.value;

describe('DEFAULT_POLICY', () => {
  it('is a valid document that validates to itself', () => {
    expect(validatePolicy(structuredClone(DEFAULT_POLICY))).toEqual({
      policy: DEFAULT_POLICY,
      problems: [],
    });
    expect(Object.isFrozen(DEFAULT_POLICY.routes)).toBe(true);
  });

  it('masks detected secrets, restricts GenAI content, samples nothing out, keeps 30 days', () => {
    const compiled = compilePolicy(DEFAULT_POLICY, { hmacKey });
    expect(compiled.stages).toEqual(PIPELINE_STAGES);
    expect(compiled.hasTailSampling).toBe(false);
    const id = traceId(1);
    const data = batch([
      span({
        traceId: id,
        attributes: [
          attr('note', 'mail ada@example.com'),
          attr('gen_ai.prompt', 'my secret prompt'),
        ],
      }),
    ]);
    const prepared = compiled.prepareTraces(data);
    expect(prepared.headSampledOut).toBe(0);
    const s = allSpans(prepared.data)[0];
    expect(valueOf(s.attributes, 'note')?.stringValue).not.toContain('ada@example.com');
    expect(valueOf(s.attributes, 'gen_ai.prompt')?.stringValue).toBe('my secret prompt');
    expect(s.attributes.some((a) => a.key === RESTRICTED_KEYS_ATTRIBUTE)).toBe(true);

    const [delivery] = compiled.deliverTraces(prepared.data.resourceSpans);
    expect(delivery.sink).toBe('store');
    expect(delivery.restrictedFields).toBe(true);
    const out = allSpans(delivery.data)[0];
    expect(valueOf(out.attributes, RETENTION_CLASS_ATTRIBUTE)?.stringValue).toBe('standard');
    expect(valueOf(out.attributes, RETENTION_DAYS_ATTRIBUTE)?.intValue).toBe(30n);
  });
});

describe('compilePolicy on agent-platform.yaml', () => {
  const doc = parsePolicy(
    readFileSync(join(__dirname, '../../testdata/policies/agent-platform.yaml'), 'utf8'),
    'yaml',
  ).policy!;
  const compiled = compilePolicy(doc, { hmacKey });

  it('runs attributes before redaction, then tail sampling, retention and routes', () => {
    const id = traceId(9);
    const spans = agentTrace(id, 20, { error: true });
    spans[1].attributes.push(
      attr('internal.debug', 'x'),
      attr('http.url', 'https://api.example.com/v1/chat?x=1'),
    );
    const data = batch(spans);
    compiled.prepareTraces(data, { 'tenant.id': 'acme' });
    const root = allSpans(data)[0];
    expect(valueOf(root.attributes, 'deployment.environment')?.stringValue).toBe('production');
    expect(valueOf(root.attributes, 'user.email')?.stringValue).toMatch(/^[0-9a-f]{64}$/);
    expect(
      valueOf(data.resourceSpans[0].resource!.attributes, 'custodian.tenant')?.stringValue,
    ).toBe('acme');
    const llm = allSpans(data)[1];
    expect(llm.attributes.some((a) => a.key === 'internal.debug')).toBe(false);
    expect(valueOf(llm.attributes, 'http_host')?.stringValue).toBe('api.example.com');
    expect(valueOf(llm.attributes, 'http_path')?.stringValue).toBe('/v1/chat');

    const tail = compiled.createTailSampler()!;
    expect(tail.add(data, 0)).toEqual([]);
    const [decided] = tail.poll(30_000);
    expect(decided.decision).toEqual({ sampled: true, reason: 'sampled', policy: 'errors' });

    const deliveries = compiled.deliverTraces(decided.spans);
    expect(deliveries.map((d) => [d.sink, d.restrictedFields])).toEqual([
      ['store', true],
      ['honeycomb', false],
      ['oncall', false],
    ]);
    // Spans with a prompt are classed raw_prompts (7 days), the rest standard.
    const classes = allSpans(deliveries[0].data).map(
      (s) => valueOf(s.attributes, RETENTION_CLASS_ATTRIBUTE)?.stringValue,
    );
    expect(classes[1]).toBe('raw_prompts');
    expect(classes[0]).toBe('standard');
    // The prompt is restricted: the uncleared sink sees the placeholder, the store the value.
    const prompt = (d: (typeof deliveries)[number]) =>
      valueOf(allSpans(d.data)[1].attributes, 'gen_ai.prompt')?.stringValue;
    expect(prompt(deliveries[0])).toContain('Step 1');
    expect(prompt(deliveries[1])).toBe(RESTRICTED_PLACEHOLDER);
  });

  it('head sampling removes the same traces from spans and logs, and counts them', () => {
    const head = compilePolicy(
      { ...doc, sampling: { head: { sampling_percentage: 50 } } },
      { hmacKey },
    );
    const ids = Array.from({ length: 200 }, (_, i) => traceId(i * 7919));
    const data = batch(ids.map((id) => span({ traceId: id })));
    const logs = logBatch([...ids.map((id) => logRecord({ traceId: id })), logRecord({})]);
    const t = head.prepareTraces(data);
    const l = head.prepareLogs(logs);
    const keptSpans = allSpans(t.data).map((s) => s.traceId);
    const keptLogs = l.data.resourceLogs[0].scopeLogs[0].logRecords
      .filter((r) => r.traceId.length)
      .map((r) => r.traceId);
    expect(keptLogs).toEqual(keptSpans);
    expect(t.headSampledOut + keptSpans.length).toBe(200);
    expect(t.headSampledOut).toBeGreaterThan(50);
    expect(l.headSampledOut).toBe(t.headSampledOut);
    // A log without a trace id is never head-sampled.
    expect(l.data.resourceLogs[0].scopeLogs[0].logRecords.some((r) => r.traceId.length === 0)).toBe(
      true,
    );
  });

  it('routes error logs to the errors-only sink', () => {
    const logs = logBatch([logRecord({ severity: 17, body: 'boom' }), logRecord({ severity: 9 })]);
    const d = compiled.deliverLogs(logs);
    const oncall = d.find((x) => x.sink === 'oncall')!;
    expect(
      oncall.data.resourceLogs[0].scopeLogs[0].logRecords.map((r) => r.severityNumber),
    ).toEqual([17]);
    expect(
      d.find((x) => x.sink === 'store')!.data.resourceLogs[0].scopeLogs[0].logRecords,
    ).toHaveLength(2);
  });
});
