import { randomBytes } from 'node:crypto';
import {
  decodeTraces,
  encodeLogs,
  encodeTraces,
  type Span,
  type TracesData,
} from '@custodian/otlp';
import {
  DEFAULT_POLICY,
  TailBufferBudget,
  compilePolicy,
  parsePolicy,
  type CompiledPolicy,
} from '@custodian/policy';
import { PartitionProcessor, type PipelineCounters } from './partition-processor';
import type { DeliveryItem, PoisonRecord, TenantSink } from './ports';

const HMAC = Buffer.alloc(32, 9);

function policy(doc: object): CompiledPolicy {
  const { policy, problems } = parsePolicy(JSON.stringify({ version: 1, ...doc }), 'json');
  if (!policy) throw new Error(JSON.stringify(problems));
  return compilePolicy(policy, { hmacKey: HMAC });
}

const TAIL = {
  sampling: {
    tail: {
      decision_wait: '1s',
      num_traces: 1000,
      policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
    },
  },
  routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }],
};

function span(
  traceId: Buffer,
  name: string,
  error = false,
  attrs: Record<string, string> = {},
): Span {
  return {
    traceId,
    spanId: randomBytes(8),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name,
    kind: 1,
    startTimeUnixNano: 1_000_000_000n,
    endTimeUnixNano: 2_000_000_000n,
    attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: error ? { code: 2, message: 'boom' } : undefined,
  };
}

function traces(...spans: Span[]): Buffer {
  const data: TracesData = {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }],
          droppedAttributesCount: 0,
        },
        scopeSpans: [{ spans, schemaUrl: '' }],
        schemaUrl: '',
      },
    ],
  };
  return Buffer.from(encodeTraces(data));
}

function rig(p: CompiledPolicy, sinkNames = ['zipkin']) {
  let now = 0;
  const delivered: DeliveryItem[] = [];
  const counts: string[] = [];
  const counters: PipelineCounters = {
    discarded: (t, s, reason, n) => counts.push(`discarded:${s}:${reason}:${n}`),
    routed: (t, s, sink, n) => counts.push(`routed:${s}:${sink}:${n}`),
    decided: (t, sampled, cause) => counts.push(`decided:${sampled}:${cause}`),
    restrictedWithheld: (t, s, sink, n) => counts.push(`withheld:${s}:${sink}:${n}`),
  };
  const sinks: TenantSink[] = sinkNames.map((name) => ({
    id: `id-${name}`,
    name,
    kind: name === 'store' ? 'store' : 'otlphttp',
    clearedForRestricted: name.startsWith('cleared'),
    exporter: {} as never,
  }));
  const proc = new PartitionProcessor({
    policies: { get: async () => p },
    sinks: { forTenant: async () => sinks },
    delivery: { submit: (item) => delivered.push(item) },
    counters,
    now: () => now,
    // As the worker runs it: a skeleton first pass where the tail stage allows one.
    firstPassKeys: { resource: ['service.name'], span: ['tool.name'] },
  });
  const settle = () => new Promise((r) => setImmediate(r));
  return { proc, delivered, counts, advance: (ms: number) => (now += ms), settle };
}

describe('PartitionProcessor', () => {
  it('rebuilds a kept trace from its records exactly as its prepared spans were, and nothing else', async () => {
    // The platform default (every detector, GenAI content restricted) plus attribute actions,
    // errors kept: what reaches the sink must be what preparing the decoded spans gave.
    const p = policy({
      ...DEFAULT_POLICY,
      attributes: [
        {
          actions: [
            { key: 'user.id', action: 'hash' },
            { key: 'deployment', action: 'insert', value: 'prod' },
          ],
        },
      ],
      sampling: TAIL.sampling,
      routes: [{ sink: 'cleared', select: 'all', restricted_fields: true }],
    });
    const r = rig(p, ['cleared']);
    const kept = randomBytes(16);
    const other = randomBytes(16);
    const secrets = {
      prompt: 'mail ada@example.com, key sk-ant-api03-' + 'a'.repeat(93) + 'AA',
      'user.id': 'u-42',
      'gen_ai.input.messages': '[{"role":"user","content":"call +1 415 555 2671"}]',
    };
    // With events and links, which the first pass (a skeleton) does not even decode.
    const tool = span(kept, 'tool', true, secrets);
    tool.events.push({
      timeUnixNano: 1_500_000_000n,
      name: 'exception',
      attributes: [{ key: 'exception.message', value: { stringValue: 'for ada@example.com' } }],
      droppedAttributesCount: 0,
    });
    tool.links.push({
      traceId: other,
      spanId: randomBytes(8),
      traceState: '',
      attributes: [],
      droppedAttributesCount: 0,
      flags: 0,
    });
    const records = [
      traces(span(kept, 'plan', false, secrets), span(other, 'x', false, secrets)),
      traces(span(other, 'y'), tool, span(kept, 'llm', false)),
    ];
    const expected: Span[] = [];
    for (const value of records) {
      const data = decodeTraces(value);
      p.prepareTraces(data);
      for (const rs of data.resourceSpans)
        for (const ss of rs.scopeSpans)
          for (const sp of ss.spans) if (Buffer.from(sp.traceId).equals(kept)) expected.push(sp);
    }
    p.deliverTraces([
      {
        resource: undefined,
        scopeSpans: [{ scope: undefined, spans: expected, schemaUrl: '' }],
        schemaUrl: '',
      },
    ]);
    for (let i = 0; i < records.length; i++) {
      await r.proc.handle({
        offset: String(i),
        tenantId: 't',
        signal: 'traces',
        value: records[i],
      });
    }
    r.advance(1_000);
    await r.proc.tick();
    await r.settle();
    expect(r.delivered).toHaveLength(1);
    const got = (r.delivered[0].data as TracesData).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans),
    );
    expect(got.map((sp) => sp.name)).toEqual(['plan', 'tool', 'llm']);
    expect(got).toEqual(expected);
    expect(got[1].events[0].attributes[0].value.stringValue).toBe('for [REDACTED:email]');
    expect(got[1].links).toHaveLength(1);
    const text = JSON.stringify(got, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('u-42');
    expect(text).not.toContain('555 2671');
    expect(r.counts).toEqual(
      expect.arrayContaining([
        'decided:true:decision_wait',
        'discarded:traces:tail_sampled:2',
        'routed:traces:cleared:3',
      ]),
    );
    r.delivered[0].onDone();
    expect(r.proc.trackers.traces.committable()).toBe('2');
  });

  it('decides on prepared spans when a tail policy reads attributes (an attribute action sets them)', async () => {
    // The tail policy keeps traces whose span has flag=true, which only the attribute action
    // inserts; redaction masks the email the second policy would otherwise match.
    const p = policy({
      attributes: [{ actions: [{ key: 'flag', action: 'insert', value: true }] }],
      sampling: {
        tail: {
          decision_wait: '1s',
          policies: [
            {
              name: 'flag',
              type: 'and',
              and: {
                and_sub_policy: [
                  {
                    name: 'f',
                    type: 'boolean_attribute',
                    boolean_attribute: { key: 'flag', value: true },
                  },
                  {
                    name: 'svc',
                    type: 'string_attribute',
                    string_attribute: {
                      key: 'who',
                      values: ['ada@example.com'],
                      invert_match: true,
                    },
                  },
                ],
              },
            },
          ],
        },
      },
      routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }],
    });
    const r = rig(p);
    await r.proc.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'a', false, { who: 'ada@example.com' })),
    });
    r.advance(1_000);
    await r.proc.tick();
    await r.settle();
    expect(r.counts).toContain('decided:true:decision_wait');
    expect(r.delivered).toHaveLength(1);
    const [sp] = (r.delivered[0].data as TracesData).resourceSpans[0].scopeSpans[0].spans;
    expect(sp.attributes.find((a) => a.key === 'flag')?.value).toEqual({ boolValue: true });
    const who = sp.attributes.find((a) => a.key === 'who')?.value.stringValue;
    expect(who).toBe('[REDACTED:email]');
  });

  it('gives up, counted, the spans of a record that decodes only as a skeleton, and moves on', async () => {
    const r = rig(policy(TAIL));
    const id = randomBytes(16);
    const good = traces(span(id, 'tool', true, { note: 'fine' }));
    // The same record with the attribute's value made invalid UTF-8 (a foreign producer's).
    const bad = Buffer.from(good);
    const at = bad.indexOf('fine');
    bad[at] = 0xff;
    await r.proc.handle({ offset: '4', tenantId: 't', signal: 'traces', value: bad });
    expect(r.proc.bufferedTraces).toBe(1);
    r.advance(1_000);
    await r.proc.tick();
    await r.settle();
    expect(r.counts).toEqual(['decided:true:decision_wait', 'discarded:traces:undecodable:1']);
    expect(r.delivered).toHaveLength(0);
    expect(r.proc.trackers.traces.committable()).toBe('5');
  });

  it('holds the commit until the trace is decided and the kept one is durably delivered', async () => {
    const r = rig(policy(TAIL));
    const failed = randomBytes(16);
    const healthy = randomBytes(16);
    await r.proc.handle({
      offset: '10',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(failed, 'tool', true), span(healthy, 'ok')),
    });
    await r.proc.handle({
      offset: '11',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(failed, 'llm')),
    });
    expect(r.proc.trackers.traces.committable()).toBe('10');
    expect(r.proc.bufferedTraces).toBe(2);

    r.advance(1500);
    await r.proc.tick();
    await r.settle();
    // The healthy trace is sampled out, the failed one goes to the sink with both its spans.
    expect(r.counts).toEqual(
      expect.arrayContaining(['decided:true:decision_wait', 'decided:false:decision_wait']),
    );
    expect(r.delivered).toHaveLength(1);
    expect(r.delivered[0].items).toBe(2);
    expect(r.delivered[0].sink.name).toBe('zipkin');
    // Not durable yet: nothing past offset 10 may be committed.
    expect(r.proc.trackers.traces.committable()).toBe('10');
    r.delivered[0].onDone();
    expect(r.proc.trackers.traces.committable()).toBe('12');
  });

  it('sends late spans the way their trace was decided, redacted like the rest', async () => {
    // A status_code policy: the first pass skipped redaction, so late spans must be prepared
    // when they are rebuilt, as kept traces are.
    const r = rig(policy(TAIL));
    const failed = randomBytes(16);
    await r.proc.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(failed, 'a', true)),
    });
    r.advance(2000);
    await r.proc.tick();
    await r.settle();
    r.delivered[0].onDone();
    await r.proc.handle({
      offset: '2',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(failed, 'late', false, { note: 'mail ada@example.com' })),
    });
    await r.settle();
    expect(r.delivered).toHaveLength(2);
    expect(r.counts).toContain('decided:true:late_span');
    const [late] = (r.delivered[1].data as TracesData).resourceSpans[0].scopeSpans[0].spans;
    expect(late.name).toBe('late');
    expect(late.attributes.find((a) => a.key === 'note')?.value.stringValue).toBe(
      'mail [REDACTED:email]',
    );
    expect(r.proc.trackers.traces.committable()).toBe('2');
    r.delivered[1].onDone();
    expect(r.proc.trackers.traces.committable()).toBe('3');
  });

  it('without a tail stage routes at once; redaction has run before anything leaves', async () => {
    const r = rig(
      policy({ routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }] }),
    );
    const t = randomBytes(16);
    await r.proc.handle({
      offset: '5',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(t, 'llm', false, { note: 'mail me at jane@example.com' })),
    });
    await r.settle();
    expect(r.delivered).toHaveLength(1);
    const out = (r.delivered[0].data as TracesData).resourceSpans[0].scopeSpans[0].spans[0];
    const note = out.attributes.find((a) => a.key === 'note')?.value.stringValue;
    expect(note).not.toContain('jane@example.com');
    expect(note).toContain('[REDACTED:email]');
    expect(out.attributes.some((a) => a.key === 'custodian.policy.hash')).toBe(true);
    expect(r.proc.trackers.traces.committable()).toBe('5');
    r.delivered[0].onDone();
    expect(r.proc.trackers.traces.committable()).toBe('6');
  });

  it('counts and skips what cannot be delivered, without blocking the partition', async () => {
    const r = rig(
      policy({ routes: [{ sink: 'nowhere', select: 'all', restricted_fields: false }] }),
      ['zipkin'],
    );
    await r.proc.handle({
      offset: '1',
      tenantId: undefined,
      signal: 'traces',
      value: Buffer.from([1]),
    });
    await r.proc.handle({
      offset: '2',
      tenantId: 't',
      signal: 'traces',
      value: Buffer.from([0x0a, 0xff]),
    });
    await r.proc.handle({
      offset: '3',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'x')),
    });
    await r.settle();
    expect(r.counts).toEqual(
      expect.arrayContaining([
        'discarded:traces:no_tenant:1',
        'discarded:traces:undecodable:1',
        'discarded:traces:no_such_sink:1',
      ]),
    );
    expect(r.proc.trackers.traces.committable()).toBe('4');
  });

  it('lets logs follow their trace’s decision and keeps logs of undecided traces', async () => {
    const r = rig(policy(TAIL));
    const dropped = randomBytes(16);
    const pending = randomBytes(16);
    await r.proc.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(dropped, 'ok')),
    });
    r.advance(2000);
    await r.proc.tick();
    await r.proc.handle({
      offset: '2',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(pending, 'ok')),
    });
    const log = (traceId: Buffer, body: string) => ({
      timeUnixNano: 1n,
      observedTimeUnixNano: 1n,
      severityNumber: 9,
      severityText: '',
      body: { stringValue: body },
      attributes: [],
      droppedAttributesCount: 0,
      flags: 0,
      traceId,
      spanId: randomBytes(8),
      eventName: '',
    });
    const logs = Buffer.from(
      encodeLogs({
        resourceLogs: [
          {
            scopeLogs: [{ logRecords: [log(dropped, 'a'), log(pending, 'b')], schemaUrl: '' }],
            schemaUrl: '',
          },
        ],
      }),
    );
    await r.proc.handle({ offset: '3', tenantId: 't', signal: 'logs', value: logs });
    await r.settle();
    expect(r.counts).toContain('discarded:logs:tail_sampled:1');
    const sent = r.delivered.filter((d) => d.signal === 'logs');
    expect(sent).toHaveLength(1);
    expect(sent[0].items).toBe(1);
  });
});

describe('PartitionProcessor and tenant policies', () => {
  function withPolicies(get: (t: string) => Promise<CompiledPolicy>) {
    const counts: string[] = [];
    const proc = new PartitionProcessor({
      policies: { get },
      sinks: { forTenant: async () => [] },
      delivery: { submit: () => undefined },
      counters: {
        discarded: (t, s, reason, n) => counts.push(`${reason}:${n}`),
        routed: () => undefined,
        decided: () => undefined,
      },
      now: () => 0,
    });
    return { proc, counts };
  }

  it('skips (and counts) records of a tenant that no longer exists', async () => {
    const gone = Object.assign(new Error('unknown tenant t'), { name: 'UnknownTenantError' });
    const { proc, counts } = withPolicies(() => Promise.reject(gone));
    await proc.handle({
      offset: '7',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'x')),
    });
    expect(counts).toEqual(['unknown_tenant:1']);
    expect(proc.trackers.traces.committable()).toBe('8');
  });

  it('holds the record (throws, nothing committed) while the policy cannot be read', async () => {
    const { proc } = withPolicies(() => Promise.reject(new Error('connection refused')));
    await expect(
      proc.handle({
        offset: '7',
        tenantId: 't',
        signal: 'traces',
        value: traces(span(randomBytes(16), 'x')),
      }),
    ).rejects.toThrow(/policy of tenant t unavailable/);
    expect(proc.trackers.traces.committable()).toBeUndefined();
  });
});

describe('PartitionProcessor and the dead-letter topic', () => {
  function withDeadLetters() {
    const puts: { rec: PoisonRecord; resolve: () => void; reject: (e: Error) => void }[] = [];
    const counts: string[] = [];
    const delivered: DeliveryItem[] = [];
    const proc = new PartitionProcessor({
      policies: {
        get: async () =>
          policy({ routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }] }),
      },
      sinks: {
        forTenant: async () => [
          {
            id: 'z',
            name: 'zipkin',
            kind: 'zipkin',
            clearedForRestricted: false,
            exporter: {} as never,
          },
        ],
      },
      delivery: { submit: (item) => delivered.push(item) },
      counters: {
        discarded: (t, s, reason, n) => counts.push(`${t}:${reason}:${n}`),
        routed: () => undefined,
        decided: () => undefined,
      },
      now: () => 0,
      deadLetters: {
        put: (rec) => new Promise<void>((resolve, reject) => puts.push({ rec, resolve, reject })),
      },
    });
    const settle = () => new Promise((r) => setImmediate(r));
    return { proc, puts, counts, delivered, settle };
  }

  it("sends a kept trace's record that decodes only as a skeleton to the topic, once, and commits past it when durable", async () => {
    let now = 0;
    const puts: { rec: PoisonRecord; resolve: () => void }[] = [];
    const counts: string[] = [];
    const proc = new PartitionProcessor({
      policies: { get: async () => policy(TAIL) },
      sinks: { forTenant: async () => [] },
      delivery: { submit: () => undefined },
      counters: {
        discarded: (t, s, reason, n) => counts.push(`${reason}:${n}`),
        routed: () => undefined,
        decided: () => undefined,
      },
      now: () => now,
      deadLetters: { put: (rec) => new Promise<void>((resolve) => puts.push({ rec, resolve })) },
      firstPassKeys: { resource: ['service.name'], span: ['tool.name'] },
    });
    // Two failed traces in one record whose skipped attribute is invalid UTF-8 (a foreign
    // producer's): the first pass (a skeleton) accepts it, the rebuild cannot decode it.
    const value = traces(
      span(randomBytes(16), 'a', true, { note: 'fine' }),
      span(randomBytes(16), 'b', true),
    );
    value[value.indexOf('fine')] = 0xff;
    const headers = { 'tenant-id': Buffer.from('t') };
    await proc.handle({
      offset: '7',
      tenantId: 't',
      signal: 'traces',
      value,
      partition: 3,
      headers,
    });
    now += 1_000;
    await proc.tick();
    await new Promise((r) => setImmediate(r));
    expect(counts).toEqual(['undecodable:2']);
    expect(puts).toHaveLength(1);
    expect(puts[0].rec).toMatchObject({
      partition: 3,
      offset: '7',
      reason: 'undecodable',
      headers,
    });
    expect(Buffer.from(puts[0].rec.value!).equals(value)).toBe(true);
    expect(proc.trackers.traces.committable()).toBe('7');
    puts[0].resolve();
    await new Promise((r) => setImmediate(r));
    expect(proc.trackers.traces.committable()).toBe('8');
  });

  it('hands a poison record over with its headers, keeps flowing, and commits past it once it is on the topic', async () => {
    const r = withDeadLetters();
    const headers = { 'tenant-id': Buffer.from('t1'), 'gateway-id': Buffer.from('gw-1') };
    await r.proc.handle({
      offset: '5',
      tenantId: 't1',
      signal: 'traces',
      value: Buffer.from([0x0a, 0xff]),
      partition: 2,
      key: Buffer.from('k'),
      headers,
    });
    await r.proc.handle({
      offset: '6',
      tenantId: 't1',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'after')),
      partition: 2,
    });
    await r.settle();
    // The valid record after it was processed and delivered at once: the partition flows.
    expect(r.delivered).toHaveLength(1);
    r.delivered[0].onDone();
    expect(r.counts).toEqual(['t1:undecodable:1']);
    expect(r.puts).toHaveLength(1);
    expect(r.puts[0].rec).toMatchObject({
      signal: 'traces',
      partition: 2,
      offset: '5',
      reason: 'undecodable',
      tenantId: 't1',
      headers,
    });
    expect(r.puts[0].rec.value).toEqual(Buffer.from([0x0a, 0xff]));
    // Not on the dead-letter topic yet: the commit stops at the poison record.
    expect(r.proc.trackers.traces.committable()).toBe('5');
    r.puts[0].resolve();
    await r.settle();
    expect(r.proc.trackers.traces.committable()).toBe('7');
  });

  it('dead-letters a record without a tenant; a put that gives up leaves the offset held', async () => {
    const r = withDeadLetters();
    await r.proc.handle({
      offset: '1',
      tenantId: undefined,
      signal: 'logs',
      value: Buffer.from('x'),
      partition: 0,
    });
    expect(r.puts[0].rec.reason).toBe('no_tenant');
    expect(r.counts).toEqual(['unknown:no_tenant:1']);
    r.puts[0].reject(new Error('closed'));
    await r.settle();
    expect(r.proc.trackers.logs.committable()).toBe('1');
  });
});

describe('PartitionProcessor and sink clearance (restricted values)', () => {
  const PROMPT = 'my secret prompt';
  const RESTRICTED_ROUTES = {
    routes: ['plain', 'cleared', 'store'].map((sink) => ({
      sink,
      select: 'all',
      restricted_fields: true,
    })),
  };

  function promptOf(item: DeliveryItem): string | undefined {
    const s = (item.data as TracesData).resourceSpans[0].scopeSpans[0].spans[0];
    return s.attributes.find((a) => a.key === 'gen_ai.prompt')?.value.stringValue;
  }

  it('sends restricted values only to sinks the route AND the sink row clear', async () => {
    const r = rig(policy(RESTRICTED_ROUTES), ['plain', 'cleared', 'store']);
    await r.proc.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'llm', false, { 'gen_ai.prompt': PROMPT })),
    });
    await r.settle();
    const by = Object.fromEntries(r.delivered.map((d) => [d.sink.name, d]));
    expect(Object.keys(by).sort()).toEqual(['cleared', 'plain', 'store']);
    // The route says restricted_fields: true, but "plain" is not cleared: placeholder only.
    expect(promptOf(by.plain)).toBe('[RESTRICTED]');
    expect(promptOf(by.cleared)).toBe(PROMPT);
    // The store keeps restricted values (encrypted) whatever its flag says.
    expect(promptOf(by.store)).toBe(PROMPT);
    expect(r.counts).toContain('withheld:traces:plain:1');
    expect(r.counts.filter((c) => c.startsWith('withheld'))).toHaveLength(1);
  });

  it('never gives restricted values to a cleared sink whose route does not allow them', async () => {
    const r = rig(
      policy({ routes: [{ sink: 'cleared', select: 'all', restricted_fields: false }] }),
      ['cleared'],
    );
    await r.proc.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'llm', false, { 'gen_ai.prompt': PROMPT })),
    });
    await r.settle();
    expect(promptOf(r.delivered[0])).toBe('[RESTRICTED]');
  });
});

describe('PartitionProcessor and a tenant whose policy cannot be built', () => {
  const keyError = () =>
    Object.assign(new Error('tenant bad: HMAC key cannot be decrypted'), {
      name: 'TenantPolicyUnavailableError',
    });

  function withTenants(get: (t: string) => Promise<CompiledPolicy>) {
    const puts: { rec: PoisonRecord; resolve: () => void }[] = [];
    const counts: string[] = [];
    const logs: string[] = [];
    const delivered: DeliveryItem[] = [];
    const proc = new PartitionProcessor({
      policies: { get },
      sinks: {
        forTenant: async () => [
          {
            id: 'z',
            name: 'zipkin',
            kind: 'zipkin',
            clearedForRestricted: false,
            exporter: {} as never,
          },
        ],
      },
      delivery: { submit: (item) => delivered.push(item) },
      counters: {
        discarded: (t, s, reason, n) => counts.push(`${t}:${reason}:${n}`),
        routed: () => undefined,
        decided: () => undefined,
      },
      now: () => 0,
      deadLetters: {
        put: (rec) => new Promise<void>((resolve) => puts.push({ rec, resolve })),
      },
      policyRetry: { attempts: 4, initialBackoffMs: 1, maxBackoffMs: 2 },
      log: (level, msg, fields) => logs.push(`${level}:${String(fields.tenantId)}:${msg}`),
    });
    const settle = () => new Promise((r) => setImmediate(r));
    return { proc, puts, counts, logs, delivered, settle };
  }

  const good = policy({ routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }] });

  it('dead-letters its records with a reason, logs once, and keeps the partition flowing', async () => {
    const r = withTenants(async (t) => {
      if (t === 'bad') throw keyError();
      return good;
    });
    for (const [offset, tenantId] of [
      ['1', 'bad'],
      ['2', 'good'],
      ['3', 'bad'],
    ] as const) {
      await r.proc.handle({
        offset,
        tenantId,
        signal: 'traces',
        value: traces(span(randomBytes(16), 'x')),
        partition: 4,
      });
    }
    await r.settle();
    // The other tenant's record was processed at once.
    expect(r.delivered.map((d) => d.tenantId)).toEqual(['good']);
    r.delivered[0].onDone();
    expect(r.puts.map((p) => [p.rec.offset, p.rec.reason, p.rec.tenantId])).toEqual([
      ['1', 'tenant_key_unavailable', 'bad'],
      ['3', 'tenant_key_unavailable', 'bad'],
    ]);
    expect(r.counts).toEqual(['bad:tenant_key_unavailable:1', 'bad:tenant_key_unavailable:1']);
    expect(r.logs.filter((l) => l.startsWith('error:bad:'))).toHaveLength(1);
    // Committed only once the dead letters are durable.
    expect(r.proc.trackers.traces.committable()).toBe('1');
    for (const p of r.puts) p.resolve();
    await r.settle();
    expect(r.proc.trackers.traces.committable()).toBe('4');
  });

  it('retries a transient failure with backoff and loses nothing', async () => {
    let calls = 0;
    const r = withTenants(async () => {
      if (++calls < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return good;
    });
    await r.proc.handle({
      offset: '9',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'x')),
      partition: 0,
    });
    await r.settle();
    expect(calls).toBe(3);
    expect(r.puts).toEqual([]);
    expect(r.delivered).toHaveLength(1);
    expect(r.logs.filter((l) => l.startsWith('warn:t:'))).toHaveLength(2);
  });

  it('holds the record (throws) when the transient failure outlasts the retries', async () => {
    let calls = 0;
    const r = withTenants(async () => {
      calls++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    });
    await expect(
      r.proc.handle({
        offset: '9',
        tenantId: 't',
        signal: 'logs',
        value: Buffer.from('x'),
        partition: 0,
      }),
    ).rejects.toThrow(/policy of tenant t unavailable/);
    expect(calls).toBe(4);
    expect(r.puts).toEqual([]);
    expect(r.proc.trackers.logs.committable()).toBeUndefined();
  });
});

describe('PartitionProcessor with the shared memory budget', () => {
  /** Two partitions' processors of one worker sharing one tail-buffer budget. */
  function shared(maxBytes: number, tenantMaxBytes = maxBytes) {
    const budget = new TailBufferBudget({ maxBytes, tenantMaxBytes });
    const delivered: DeliveryItem[] = [];
    const counts: string[] = [];
    const counters: PipelineCounters = {
      discarded: (t, s, reason, n) => counts.push(`${t}:discarded:${reason}:${n}`),
      routed: (t, s, sink, n) => counts.push(`${t}:routed:${n}`),
      decided: (t, sampled, cause) => counts.push(`${t}:decided:${sampled}:${cause}`),
    };
    const sinks: TenantSink[] = [
      {
        id: 'z',
        name: 'zipkin',
        kind: 'otlphttp',
        clearedForRestricted: false,
        exporter: {} as never,
      },
    ];
    const p = policy(TAIL);
    const make = () =>
      new PartitionProcessor({
        policies: { get: async () => p },
        sinks: { forTenant: async () => sinks },
        delivery: { submit: (item) => delivered.push(item) },
        counters,
        now: () => 0,
        tailBudget: budget,
      });
    return { budget, delivered, counts, p0: make(), p1: make() };
  }
  const settle = () => new Promise((r) => setImmediate(r));
  const prompt = 'x'.repeat(2_000);

  it("decides another partition's oldest trace early, routes it from that partition and frees its commit", async () => {
    // Held bytes are the records' (≈ 2.1 kB a span here): 2 spans, then 4 more, past 10 kB.
    const r = shared(10_000);
    const failed = randomBytes(16);
    await r.p0.handle({
      offset: '5',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(failed, 'tool', true, { prompt }), span(failed, 'llm', false, { prompt })),
    });
    expect(r.p0.trackers.traces.committable()).toBe('5');
    const big = randomBytes(16);
    const spans = Array.from({ length: 4 }, (_, i) => span(big, `s${i}`, false, { prompt }));
    await r.p1.handle({ offset: '7', tenantId: 't', signal: 'traces', value: traces(...spans) });
    await settle();
    // The failed trace (partition 0, the oldest) was decided on the spot with cause budget
    // and handed to delivery, not dropped; partition 1's trace stays buffered.
    expect(r.counts).toEqual(expect.arrayContaining(['t:decided:true:budget', 't:routed:2']));
    expect(r.delivered).toHaveLength(1);
    expect(r.p0.bufferedTraces).toBe(0);
    expect(r.p1.bufferedTraces).toBe(1);
    expect(r.budget.bytes).toBeLessThanOrEqual(10_000);
    // One tenant whose cap is the whole budget: its own bound is the one that acted.
    expect(r.budget.evictions().get('t')).toEqual({ tenant: 1, global: 0, spans: 2 });
    // Partition 0 may commit past the record once the kept trace is durable.
    expect(r.p0.trackers.traces.committable()).toBe('5');
    r.delivered[0].onDone();
    expect(r.p0.trackers.traces.committable()).toBe('6');
  });

  it("frees a revoked partition's share of the budget (close)", async () => {
    const r = shared(1_000_000);
    await r.p0.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'a', false, { prompt })),
    });
    await r.p1.handle({
      offset: '1',
      tenantId: 't',
      signal: 'traces',
      value: traces(span(randomBytes(16), 'b', false, { prompt })),
    });
    const both = r.budget.bytes;
    expect(both).toBe(r.p0.bufferedSpans.bytes + r.p1.bufferedSpans.bytes);
    r.p0.close();
    expect(r.budget.bytes).toBe(r.p1.bufferedSpans.bytes);
    expect(r.budget.bytes).toBeLessThan(both);
  });
});
