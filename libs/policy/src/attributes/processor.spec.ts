import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { KeyValue } from '@custodian/otlp';
import { attr, batch, logBatch, logRecord, span, traceId } from '../../testdata/fixtures';
import { validateAttributesConfig, type AttributesProcessorConfig } from './config';
import { CompiledAttributes, convertValue, hmacValue } from './processor';

const hmacKey = 'tenant-key-0123456789';

function run(
  actions: unknown[],
  attrs: KeyValue[],
  ctx?: Record<string, string>,
): Record<string, unknown> {
  const v = validateAttributesConfig([{ actions }]);
  expect(v.problems).toEqual([]);
  new CompiledAttributes(v.config!, { hmacKey }).applyToAttributes(attrs, ctx);
  const out: Record<string, unknown> = {};
  for (const kv of attrs) {
    const x = kv.value;
    out[kv.key] = x.stringValue ?? x.intValue ?? x.doubleValue ?? x.boolValue ?? x;
  }
  return out;
}

describe('attribute actions (Collector attraction semantics)', () => {
  it('insert adds only when the key is absent', () => {
    expect(run([{ key: 'env', value: 'prod', action: 'insert' }], [])).toEqual({ env: 'prod' });
    expect(run([{ key: 'env', value: 'prod', action: 'insert' }], [attr('env', 'dev')])).toEqual({
      env: 'dev',
    });
  });

  it('update changes only an existing key', () => {
    expect(run([{ key: 'env', value: 'prod', action: 'update' }], [])).toEqual({});
    expect(run([{ key: 'env', value: 'prod', action: 'update' }], [attr('env', 'dev')])).toEqual({
      env: 'prod',
    });
  });

  it('upsert inserts or updates; values keep their YAML type', () => {
    expect(run([{ key: 'n', value: 3, action: 'upsert' }], [])).toEqual({ n: 3n });
    expect(run([{ key: 'n', value: 1.5, action: 'upsert' }], [attr('n', 'x')])).toEqual({ n: 1.5 });
    expect(run([{ key: 'b', value: true, action: 'upsert' }], [])).toEqual({ b: true });
  });

  it('from_attribute copies a value; a missing source does nothing', () => {
    expect(
      run([{ key: 'copy', from_attribute: 'src', action: 'upsert' }], [attr('src', 'v')]),
    ).toEqual({ src: 'v', copy: 'v' });
    expect(run([{ key: 'copy', from_attribute: 'missing', action: 'upsert' }], [])).toEqual({});
  });

  it('from_context reads the request context (and metadata.<key>)', () => {
    expect(
      run([{ key: 't', from_context: 'tenant.id', action: 'insert' }], [], { 'tenant.id': 'acme' }),
    ).toEqual({ t: 'acme' });
    expect(
      run([{ key: 'team', from_context: 'metadata.x-team', action: 'insert' }], [], {
        'x-team': 'core',
      }),
    ).toEqual({ team: 'core' });
    expect(run([{ key: 't', from_context: 'tenant.id', action: 'insert' }], [])).toEqual({});
  });

  it('default_value fills in when from_attribute/from_context yield nothing; alone it is the value', () => {
    const a = { key: 'region', from_attribute: 'cloud.region', default_value: 'us-east-1' };
    expect(run([{ ...a, action: 'insert' }], [])).toEqual({ region: 'us-east-1' });
    expect(run([{ ...a, action: 'insert' }], [attr('cloud.region', 'eu')])).toEqual({
      'cloud.region': 'eu',
      region: 'eu',
    });
    expect(run([{ ...a, action: 'update' }], [])).toEqual({}); // update: key must exist
    expect(run([{ ...a, action: 'update' }], [attr('region', 'x')])).toEqual({
      region: 'us-east-1',
    });
    const c = {
      key: 't',
      from_context: 'metadata.tenant',
      default_value: 'none',
      action: 'upsert',
    };
    expect(run([c], [], { tenant: 'acme' })).toEqual({ t: 'acme' });
    expect(run([c], [])).toEqual({ t: 'none' });
    expect(run([{ key: 'n', default_value: 7, action: 'upsert' }], [])).toEqual({ n: 7n });
  });

  it('default_value is refused beside value and on actions that take no value', () => {
    const v = validateAttributesConfig([
      {
        actions: [
          { key: 'a', value: 1, default_value: 2, action: 'insert' },
          { key: 'b', default_value: 2, action: 'delete' },
        ],
      },
    ]);
    expect(v.problems.map((p) => p.path)).toEqual([
      'attributes[0].actions[0].default_value',
      'attributes[0].actions[1].default_value',
    ]);
  });

  it('delete removes by key and by RE2 key pattern', () => {
    expect(run([{ key: 'a', action: 'delete' }], [attr('a', 1), attr('b', 2)])).toEqual({ b: 2n });
    expect(
      run(
        [{ pattern: '^internal\\.', action: 'delete' }],
        [attr('internal.x', 1), attr('internal.y', 2), attr('keep', 3)],
      ),
    ).toEqual({ keep: 3n });
  });

  it('hash replaces the value with HMAC-SHA256 (hex) under the tenant key', () => {
    const out = run([{ key: 'user.id', action: 'hash' }], [attr('user.id', 'u-42')]);
    expect(out['user.id']).toBe(createHmac('sha256', hmacKey).update('u-42').digest('hex'));
    // ints are hashed as 8 little-endian bytes, like the Collector's hasher
    const le = Buffer.alloc(8);
    le.writeBigInt64LE(7n);
    expect(hmacValue(hmacKey, { intValue: 7n })).toBe(
      createHmac('sha256', hmacKey).update(le).digest('hex'),
    );
    expect(
      run([{ pattern: 'email$', action: 'hash' }], [attr('user.email', 'a@b.c'), attr('x', 'y')]).x,
    ).toBe('y');
  });

  it('extract puts each named group into its own attribute', () => {
    const out = run(
      [
        {
          key: 'http.url',
          pattern: '^(?P<scheme>https?)://(?P<host>[^/]+)(?P<path>/[^?]*)',
          action: 'extract',
        },
      ],
      [attr('http.url', 'https://example.com/v1/chat?a=1')],
    );
    expect(out).toMatchObject({ scheme: 'https', host: 'example.com', path: '/v1/chat' });
    expect(run([{ key: 'n', pattern: '(?P<d>\\d+)', action: 'extract' }], [attr('n', 5)])).toEqual({
      n: 5n,
    });
  });

  it('convert changes type when convertible and leaves the value otherwise', () => {
    expect(
      run([{ key: 'n', converted_type: 'int', action: 'convert' }], [attr('n', '42')]),
    ).toEqual({ n: 42n });
    expect(
      run([{ key: 'n', converted_type: 'int', action: 'convert' }], [attr('n', 'forty')]),
    ).toEqual({ n: 'forty' });
    expect(run([{ key: 'n', converted_type: 'int', action: 'convert' }], [attr('n', 3.9)])).toEqual(
      { n: 3n },
    );
    expect(
      run([{ key: 'n', converted_type: 'double', action: 'convert' }], [attr('n', '2.5')]),
    ).toEqual({ n: 2.5 });
    expect(
      run([{ key: 'n', converted_type: 'string', action: 'convert' }], [attr('n', true)]),
    ).toEqual({ n: 'true' });
    expect(convertValue({ boolValue: true }, 'int')).toEqual({ intValue: 1n });
  });

  it('rename moves from_attribute to key', () => {
    expect(
      run(
        [{ key: 'new', from_attribute: 'old', action: 'rename' }],
        [attr('old', 'v'), attr('new', 'x')],
      ),
    ).toEqual({ new: 'v' });
    expect(
      run([{ key: 'new', from_attribute: 'old', action: 'rename' }], [attr('other', 1)]),
    ).toEqual({ other: 1n });
  });

  it('accepts upper-case action names, like the Collector', () => {
    expect(run([{ key: 'k', value: 'v', action: 'INSERT' }], [])).toEqual({ k: 'v' });
  });

  it('never shares one configured value between spans', () => {
    const cfg = validateAttributesConfig([
      { actions: [{ key: 'list', value: ['a'], action: 'insert' }] },
    ]).config!;
    const c = new CompiledAttributes(cfg, { hmacKey });
    const a: KeyValue[] = [];
    const b: KeyValue[] = [];
    c.applyToAttributes(a);
    c.applyToAttributes(b);
    expect(a[0].value).not.toBe(b[0].value);
  });

  it('hash is deterministic per tenant key and differs across keys (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(hmacValue('k1-k1-k1-k1-k1-k1', { stringValue: s })).toBe(
          hmacValue('k1-k1-k1-k1-k1-k1', { stringValue: s }),
        );
        expect(hmacValue('k1-k1-k1-k1-k1-k1', { stringValue: s })).not.toBe(
          hmacValue('k2-k2-k2-k2-k2-k2', { stringValue: s }),
        );
      }),
    );
  });
});

describe('hash action over many spans (recent values cached)', () => {
  it('gives every value its own HMAC, repeated or not, past the cache bound and for long values', () => {
    const v = validateAttributesConfig([{ actions: [{ key: 'user.id', action: 'hash' }] }]);
    const compiled = new CompiledAttributes(v.config!, { hmacKey });
    const expected = (s: string) => createHmac('sha256', hmacKey).update(s).digest('hex');
    // 5,000 distinct ids then the first ones again (the cache holds 4,096 and empties when full),
    // each seen twice in a row, and one value longer than the cached length
    const ids = [...Array.from({ length: 5000 }, (_, i) => `user-${i}`), 'user-1', 'user-4999'];
    ids.push('x'.repeat(300));
    for (const id of ids)
      for (let twice = 0; twice < 2; twice++) {
        const attrs = [attr('user.id', id)];
        compiled.applyToAttributes(attrs);
        expect(attrs[0].value.stringValue).toBe(expected(id));
      }
    // a non-string value is hashed by its encoding, never served from the string cache
    const asInt = [attr('user.id', 42)];
    compiled.applyToAttributes(asInt);
    expect(asInt[0].value.stringValue).toBe(hmacValue(hmacKey, { intValue: 42n }));
    expect(asInt[0].value.stringValue).not.toBe(expected('42'));
  });

  it('keeps tenants apart: two policies with the same value and different keys (property)', () => {
    const compile = (key: string) =>
      new CompiledAttributes(
        validateAttributesConfig([{ actions: [{ key: 'k', action: 'hash' }] }]).config!,
        { hmacKey: key },
      );
    const a = compile('tenant-a-key-0123456789');
    const b = compile('tenant-b-key-0123456789');
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 20 }),
        (vals) => {
          for (const val of vals) {
            const x = [attr('k', val)];
            const y = [attr('k', val)];
            a.applyToAttributes(x);
            b.applyToAttributes(y);
            expect(x[0].value.stringValue).toBe(
              hmacValue('tenant-a-key-0123456789', { stringValue: val }),
            );
            expect(y[0].value.stringValue).toBe(
              hmacValue('tenant-b-key-0123456789', { stringValue: val }),
            );
          }
        },
      ),
    );
  });
});

describe('attribute processors on the OTLP model', () => {
  const compile = (p: AttributesProcessorConfig[]) => {
    const v = validateAttributesConfig(p);
    expect(v.problems).toEqual([]);
    return new CompiledAttributes(v.config!, { hmacKey });
  };

  it('applies to span and log attributes by default, not resource, events or links', () => {
    const c = compile([{ actions: [{ key: 'x', value: 1, action: 'insert' }] }]);
    const s = span({ traceId: traceId(1) });
    s.events.push({ timeUnixNano: 0n, name: 'e', attributes: [], droppedAttributesCount: 0 });
    const data = batch([s]);
    c.applyToTraces(data);
    expect(s.attributes.map((a) => a.key)).toEqual(['x']);
    expect(s.events[0].attributes).toEqual([]);
    expect(data.resourceSpans[0].resource!.attributes.map((a) => a.key)).toEqual(['service.name']);
    const logs = logBatch([logRecord({})]);
    c.applyToLogs(logs);
    expect(logs.resourceLogs[0].scopeLogs[0].logRecords[0].attributes.map((a) => a.key)).toEqual([
      'x',
    ]);
  });

  it('apply_to reaches resource, scope, event and link attributes', () => {
    const c = compile([
      {
        apply_to: ['resource', 'scope', 'event', 'link'],
        actions: [{ key: 'x', value: 1, action: 'insert' }],
      },
    ]);
    const s = span({ traceId: traceId(1) });
    s.events.push({ timeUnixNano: 0n, name: 'e', attributes: [], droppedAttributesCount: 0 });
    s.links.push({
      traceId: traceId(2),
      spanId: new Uint8Array(8),
      traceState: '',
      attributes: [],
      droppedAttributesCount: 0,
      flags: 0,
    });
    const data = batch([s]);
    c.applyToTraces(data);
    expect(s.attributes).toEqual([]);
    expect(s.events[0].attributes.map((a) => a.key)).toEqual(['x']);
    expect(s.links[0].attributes.map((a) => a.key)).toEqual(['x']);
    expect(data.resourceSpans[0].resource!.attributes.map((a) => a.key)).toEqual([
      'service.name',
      'x',
    ]);
    expect(data.resourceSpans[0].scopeSpans[0].scope!.attributes.map((a) => a.key)).toEqual(['x']);
  });

  it('include/exclude select spans as the Collector match properties do', () => {
    const c = compile([
      {
        include: {
          match_type: 'regexp',
          span_names: ['^llm\\.'],
          attributes: [{ key: 'llm.model' }],
        },
        exclude: { match_type: 'strict', attributes: [{ key: 'llm.model', value: 'local' }] },
        actions: [{ key: 'hit', value: true, action: 'insert' }],
      },
    ]);
    const spans = [
      span({ traceId: traceId(1), name: 'llm.chat', attributes: [attr('llm.model', 'gpt-4o')] }),
      span({ traceId: traceId(1), name: 'llm.chat', attributes: [attr('llm.model', 'local')] }),
      span({ traceId: traceId(1), name: 'llm.chat' }),
      span({ traceId: traceId(1), name: 'tool.call', attributes: [attr('llm.model', 'gpt-4o')] }),
    ];
    c.applyToTraces(batch(spans));
    expect(spans.map((s) => s.attributes.some((a) => a.key === 'hit'))).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });

  it('matches services, resources and libraries', () => {
    const c = compile([
      {
        include: {
          services: ['agent'],
          resources: [{ key: 'env', value: 'prod' }],
          libraries: [{ name: 'custodian.test' }],
        },
        actions: [{ key: 'hit', value: true, action: 'insert' }],
      },
    ]);
    const a = span({ traceId: traceId(1) });
    const b = span({ traceId: traceId(1) });
    const d = span({ traceId: traceId(1) });
    c.applyToTraces(batch([a], 'agent', [attr('env', 'prod')]));
    c.applyToTraces(batch([b], 'agent', [attr('env', 'dev')]));
    c.applyToTraces(batch([d], 'other', [attr('env', 'prod')]));
    expect([a, b, d].map((s) => s.attributes.length)).toEqual([1, 0, 0]);
  });
});

describe('validateAttributesConfig', () => {
  it('reports every misuse of the action fields, with paths', () => {
    const r = validateAttributesConfig([
      {
        actions: [
          { action: 'insert', key: 'a' },
          { action: 'insert', key: 'a', value: 1, from_attribute: 'b' },
          { action: 'delete' },
          { action: 'extract', key: 'k', pattern: '(\\d+)' },
          { action: 'extract', key: 'k', pattern: '(?P<a>x)(y)' },
          { action: 'convert', key: 'k', converted_type: 'float' },
          { action: 'hash', key: 'k', value: 'x' },
          { action: 'rename', key: 'k' },
          { action: 'delete', pattern: '(?!x)' },
          { action: 'explode', key: 'k' },
        ],
        apply_to: ['spans'],
      },
      { actions: [] },
    ]);
    expect(r.config).toBeUndefined();
    expect(r.problems.map((p) => p.path)).toEqual([
      'attributes[0].apply_to[0]',
      'attributes[0].actions[0]',
      'attributes[0].actions[1]',
      'attributes[0].actions[2]',
      'attributes[0].actions[3].pattern',
      'attributes[0].actions[4].pattern',
      'attributes[0].actions[5].converted_type',
      'attributes[0].actions[6].value',
      'attributes[0].actions[7].from_attribute',
      'attributes[0].actions[8].pattern',
      'attributes[0].actions[9].action',
      'attributes[1].actions',
    ]);
  });
});
