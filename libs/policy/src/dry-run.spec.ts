import { createHmac } from 'node:crypto';
import { StatusCode, type MetricsData } from '@custodian/otlp';
import { attr, batch, logBatch, logRecord, span, traceId } from '../testdata/fixtures';
import { compilePolicy, parsePolicy, POLICY_HASH_ATTRIBUTE, type CompiledPolicy } from './document';
import { DEFAULT_POLICY } from './document/defaults';
import { dryRunPolicy } from './dry-run';

const HMAC = Buffer.alloc(32, 7);

function compile(doc: object): CompiledPolicy {
  const { policy, problems } = parsePolicy(JSON.stringify({ version: 1, ...doc }), 'json');
  if (!policy) throw new Error(JSON.stringify(problems));
  return compilePolicy(policy, { hmacKey: HMAC });
}

const ERRORS_TAIL = {
  sampling: {
    tail: {
      decision_wait: '5s',
      policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
    },
  },
  routes: [
    { sink: 'zipkin', select: 'all', restricted_fields: false },
    { sink: 'vault', select: 'errors', restricted_fields: true },
  ],
};

const str = (attrs: { key: string; value: { stringValue?: string } }[], key: string) =>
  attrs.find((a) => a.key === key)?.value.stringValue;

describe('dryRunPolicy', () => {
  it('keeps the failed run, samples out the healthy one and says which tail policy decided', () => {
    const failed = traceId(1);
    const healthy = traceId(2);
    const sample = {
      traces: batch([
        span({ traceId: failed, name: 'tool', status: StatusCode.Error }),
        span({ traceId: failed, name: 'llm' }),
        span({ traceId: healthy, name: 'ok' }),
      ]),
    };
    const r = dryRunPolicy(compile(ERRORS_TAIL), sample, { now: 1000 });
    expect(r.input.spans).toBe(3);
    const byId = Object.fromEntries(r.traceDecisions.map((d) => [d.traceId, d]));
    const hex = (id: Uint8Array) => Buffer.from(id).toString('hex');
    expect(byId[hex(failed)]).toMatchObject({
      sampled: true,
      reason: 'sampled',
      policy: 'errors',
      cause: 'decision_wait',
      spanCount: 2,
    });
    expect(byId[hex(healthy)]).toMatchObject({ sampled: false, reason: 'no_policy_sampled' });
    expect(r.discarded).toEqual([{ signal: 'traces', reason: 'tail_sampled', count: 1 }]);
    expect(r.sinks.map((s) => [s.sink, s.spans, s.restrictedFields])).toEqual([
      ['zipkin', 2, false],
      ['vault', 2, true],
    ]);
    for (const s of r.sinks[0].traces!.resourceSpans[0].scopeSpans[0].spans) {
      expect(str(s.attributes, POLICY_HASH_ATTRIBUTE)).toBe(r.policyHash);
    }
  });

  it('reports redaction per rule and action, and restricted values only reach cleared routes', () => {
    const id = traceId(3);
    const sample = {
      traces: batch([
        span({
          traceId: id,
          status: StatusCode.Error,
          attributes: [
            attr('note', 'mail me at jane.doe@example.com'),
            attr('gen_ai.prompt', 'the secret plan'),
          ],
        }),
      ]),
    };
    const r = dryRunPolicy(compile(ERRORS_TAIL), sample);
    expect(r.redaction).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ signal: 'traces', rule: 'email', action: 'mask', count: 1 }),
        expect.objectContaining({ signal: 'traces', action: 'restrict', count: 1 }),
      ]),
    );
    const spanOf = (sink: string) =>
      r.sinks.find((s) => s.sink === sink)!.traces!.resourceSpans[0].scopeSpans[0].spans[0];
    expect(str(spanOf('zipkin').attributes, 'note')).not.toContain('jane.doe');
    expect(str(spanOf('zipkin').attributes, 'gen_ai.prompt')).not.toBe('the secret plan');
    expect(str(spanOf('vault').attributes, 'gen_ai.prompt')).toBe('the secret plan');
  });

  it('without a tail stage delivers everything that passed head sampling (platform default)', () => {
    const r = dryRunPolicy(compilePolicy(DEFAULT_POLICY, { hmacKey: HMAC }), {
      traces: batch([span({ traceId: traceId(4) }), span({ traceId: traceId(5) })]),
    });
    expect(r.traceDecisions).toEqual([]);
    expect(r.discarded).toEqual([]);
    expect(r.sinks).toHaveLength(1);
    expect(r.sinks[0].spans).toBe(2);
  });

  it('counts head-sampled spans with the worker reason', () => {
    const r = dryRunPolicy(compile({ sampling: { head: { sampling_percentage: 0 } } }), {
      traces: batch([span({ traceId: traceId(6) })]),
    });
    expect(r.discarded).toEqual([{ signal: 'traces', reason: 'head_sampled', count: 1 }]);
    expect(r.sinks).toEqual([]);
  });

  it('reports the attributes stage effects and hashes with the tenant key', () => {
    const policy = compile({
      attributes: [
        {
          actions: [
            { key: 'env', value: 'prod', action: 'insert' },
            { key: 'user.id', action: 'hash' },
            { key: 'internal.debug', action: 'delete' },
          ],
        },
      ],
    });
    const sample = {
      traces: batch([
        span({
          traceId: traceId(7),
          attributes: [attr('user.id', 'u-42'), attr('internal.debug', 'x')],
        }),
        span({ traceId: traceId(7), attributes: [attr('user.id', 'u-43')] }),
      ]),
    };
    const r = dryRunPolicy(policy, sample);
    const changes = Object.fromEntries(
      r.attributeChanges.map((c) => [`${c.target}:${c.key}:${c.change}`, c.count]),
    );
    expect(changes).toEqual({
      'span:env:added': 2,
      'span:user.id:changed': 2,
      'span:internal.debug:removed': 1,
    });
    const out = r.sinks[0].traces!.resourceSpans[0].scopeSpans[0].spans[0];
    expect(str(out.attributes, 'user.id')).toBe(
      createHmac('sha256', HMAC).update('u-42').digest('hex'),
    );
  });

  it('logs follow their trace decision; logs of unknown traces and without trace id are kept', () => {
    const failed = traceId(8);
    const healthy = traceId(9);
    const r = dryRunPolicy(compile(ERRORS_TAIL), {
      traces: batch([
        span({ traceId: failed, status: StatusCode.Error }),
        span({ traceId: healthy }),
      ]),
      logs: logBatch([
        logRecord({ traceId: failed, body: 'a' }),
        logRecord({ traceId: healthy, body: 'b' }),
        logRecord({ traceId: traceId(10), body: 'c' }),
        logRecord({ body: 'd' }),
      ]),
    });
    expect(r.discarded).toEqual(
      expect.arrayContaining([{ signal: 'logs', reason: 'tail_sampled', count: 1 }]),
    );
    const zipkin = r.sinks.find((s) => s.sink === 'zipkin')!;
    expect(zipkin.logRecords).toBe(3);
    const bodies = zipkin.logs!.resourceLogs[0].scopeLogs[0].logRecords.map(
      (l) => l.body?.stringValue,
    );
    expect(bodies).toEqual(['a', 'c', 'd']);
  });

  it('redacts and routes metrics without sampling them', () => {
    const metrics: MetricsData = {
      resourceMetrics: [
        {
          resource: { attributes: [attr('service.name', 'agent')], droppedAttributesCount: 0 },
          scopeMetrics: [
            {
              scope: undefined,
              metrics: [
                {
                  name: 'llm.calls',
                  description: '',
                  unit: '',
                  metadata: [],
                  gauge: {
                    dataPoints: [
                      {
                        attributes: [attr('caller', 'bob@example.com')],
                        startTimeUnixNano: 0n,
                        timeUnixNano: 1n,
                        asInt: 3n,
                        exemplars: [],
                        flags: 0,
                      },
                    ],
                  },
                },
              ],
              schemaUrl: '',
            },
          ],
          schemaUrl: '',
        },
      ],
    };
    const r = dryRunPolicy(compilePolicy(DEFAULT_POLICY, { hmacKey: HMAC }), { metrics });
    expect(r.input.dataPoints).toBe(1);
    expect(r.sinks[0].dataPoints).toBe(1);
    expect(r.redaction).toEqual([
      expect.objectContaining({ signal: 'metrics', rule: 'email', action: 'mask', count: 1 }),
    ]);
  });
});
