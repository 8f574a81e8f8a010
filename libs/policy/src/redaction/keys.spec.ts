/**
 * Map keys are scanned like values (issue #4: "no raw detected value appears anywhere in the
 * output"): an OTLP attribute key or a kvlist entry's key that is an email, a token or a JWT is
 * replaced by its action's token, dropped, or hashed — at the top of every attribute list and in
 * maps at any depth — and counted like any detection. The fast engine and the reference engine
 * agree on random maps with secrets planted as keys.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { AnyValue, KeyValue } from '@custodian/otlp';
import { compileRedaction, SUMMARY_ATTRIBUTES } from './compile';
import { DEFAULT_REDACTION_CONFIG, RedactionConfig, validateRedactionConfig } from './config';
import { RESTRICTED_KEYS_ATTRIBUTE, restrictedKeysOf } from './restricted';
import {
  attr,
  gaugeMetrics,
  int,
  kv,
  logs,
  makeLog,
  makeSpan,
  str,
  traces,
} from '../../testdata/redaction/testkit';

const KEY = new Uint8Array(32).fill(7);
const SILENT = { summary: 'silent' } as const;

function cfg(raw: Record<string, unknown>): RedactionConfig {
  const r = validateRedactionConfig(raw);
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

/** JSON of anything OTLP (bigint and bytes safe). */
const show = (d: unknown): string =>
  JSON.stringify(d, (_k, x) =>
    typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? [...x] : x,
  );

const map = (...values: KeyValue[]): AnyValue => ({ kvlistValue: { values } });
const keysOf = (v: AnyValue | undefined): string[] =>
  (v?.kvlistValue?.values ?? []).map((e) => e.key);

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

/** [detector, key text, the part that must not survive, the key it becomes under mask] */
const KEY_CASES: [string, string, string, string][] = [
  ['email', 'jane@example.com', 'jane@example.com', '[REDACTED:email]'],
  ['phone', '+1 415 555 2671', '+1 415 555 2671', '[REDACTED:phone]'],
  ['payment_card', '4111 1111 1111 1111', '4111 1111 1111 1111', '[REDACTED:payment_card]'],
  ['iban', 'DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00', '[REDACTED:iban]'],
  ['us_ssn', 'ssn 123-45-6789', '123-45-6789', 'ssn [REDACTED:us_ssn]'],
  ['ipv4', 'peer 192.168.1.20', '192.168.1.20', 'peer [REDACTED:ipv4]'],
  ['ipv6', '2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334', '[REDACTED:ipv6]'],
  ['jwt', JWT, JWT, '[REDACTED:jwt]'],
  [
    'bearer_token',
    'Bearer abcdef1234567890xyz',
    'abcdef1234567890xyz',
    'Bearer [REDACTED:bearer_token]',
  ],
  [
    'url_credentials',
    'postgres://admin:s3cr3t@db.local:5432/app',
    'admin:s3cr3t',
    'postgres://[REDACTED:url_credentials]@db.local:5432/app',
  ],
  [
    'aws_access_key_id',
    'AKIAIOSFODNN7EXAMPLE',
    'AKIAIOSFODNN7EXAMPLE',
    '[REDACTED:aws_access_key_id]',
  ],
  [
    'openai_api_key',
    'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
    'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
    '[REDACTED:openai_api_key]',
  ],
  [
    'github_token',
    'ghp_' + 'A1b2C3d4E5'.repeat(4).slice(0, 36),
    'ghp_' + 'A1b2C3d4E5'.repeat(4).slice(0, 36),
    '[REDACTED:github_token]',
  ],
  [
    'stripe_key',
    'sk_live_51H8abcdefGHIJKLmnop',
    'sk_live_51H8abcdefGHIJKLmnop',
    '[REDACTED:stripe_key]',
  ],
  ['secret_assignment', 'api_key=abcd1234', 'abcd1234', 'api_key=[REDACTED:secret_assignment]'],
];

/** `value` under `key`, `depth` maps down from the span's `user_index` attribute. */
function nested(depth: number, key: string, value: AnyValue): KeyValue {
  let inner: KeyValue = kv(key, value);
  for (let d = 0; d < depth; d++)
    inner = kv(d === depth - 1 ? 'user_index' : `level${d}`, map(inner));
  return inner;
}

/** Follows the first entry of each map down `depth` levels; answers the innermost list. */
function innermost(attributes: KeyValue[], depth: number): KeyValue[] {
  let list = attributes;
  for (let d = 0; d < depth; d++) list = list[0].value.kvlistValue!.values;
  return list;
}

describe('map keys are scanned like values (issue #4)', () => {
  describe.each([0, 1, 3])('a key %i map(s) deep', (depth) => {
    it.each(KEY_CASES)(
      '%s in a key is masked, counted, and gone from the output',
      (id, key, part, masked) => {
        const span = makeSpan([str('http.route', '/users'), nested(depth, key, { intValue: 3n })]);
        const data = traces([span]);
        const r = compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactTraces(data);
        expect(show(data)).not.toContain(part);
        const list = depth === 0 ? span.attributes : innermost(span.attributes.slice(1), depth);
        expect(list.map((e) => e.key)).toContain(masked);
        expect(list.find((e) => e.key === masked)?.value).toEqual({ intValue: 3n });
        expect(r.counts[id]).toEqual({ mask: 1 });
        expect(r.total).toBe(1);
      },
    );
  });

  it('resource, scope, span, event, link and log attributes, kvlist log bodies, data points', () => {
    const secret = 'jane@example.com';
    const span = makeSpan([kv(secret, { intValue: 1n })]);
    span.events.push({
      timeUnixNano: 1n,
      name: 'cache',
      attributes: [
        kv(secret, { stringValue: 'hit' }),
        kv('index', map(kv(secret, { intValue: 2n }))),
      ],
      droppedAttributesCount: 0,
    });
    span.links.push({
      traceId: new Uint8Array(16),
      spanId: new Uint8Array(8),
      traceState: '',
      attributes: [kv('peers', { arrayValue: { values: [map(kv(secret, { boolValue: true }))] } })],
      droppedAttributesCount: 0,
      flags: 0,
    });
    const data = traces([span], [str(secret, 'r')], [str(secret, 's')]);
    const policy = compileRedaction(cfg(SILENT), { hmacKey: KEY });
    const tr = policy.redactTraces(data);
    expect(show(data)).not.toContain(secret);
    expect(tr.counts.email).toEqual({ mask: 6 });
    expect(span.events[0].attributes.map((e) => e.key)).toEqual(['[REDACTED:email]', 'index']);
    expect(keysOf(attr(span.events[0].attributes, 'index'))).toEqual(['[REDACTED:email]']);

    const log = makeLog(map(kv('user', map(kv('by_mail', map(kv(secret, { intValue: 3n })))))), [
      str(secret, 'x'),
    ]);
    const ld = logs([log], [str(secret, 'r')]);
    expect(policy.redactLogs(ld).counts.email).toEqual({ mask: 3 });
    expect(show(ld)).not.toContain(secret);
    const byMail = attr(
      attr(log.body!.kvlistValue!.values, 'user')!.kvlistValue!.values,
      'by_mail',
    );
    expect(keysOf(byMail)).toEqual(['[REDACTED:email]']);

    const md = gaugeMetrics([[kv('index', map(kv(secret, { intValue: 1n }))), str(secret, 'y')]]);
    expect(policy.redactMetrics(md).counts.email).toEqual({ mask: 2 });
    expect(show(md)).not.toContain(secret);
  });

  it('keys that become the same token stay apart (#2, #3…), without taking an existing name', () => {
    const attrs = [
      str('first', '1'),
      int('bob@example.com', 1n),
      int('ann@example.com', 2n),
      str('[REDACTED:email]#2', 'already there'),
      kv('m', map(int('a@b.io', 1n), int('c@d.io', 2n), int('e@f.io', 3n))),
    ];
    const span = makeSpan(attrs);
    const policy = compileRedaction(cfg(SILENT), { hmacKey: KEY });
    const r = policy.redactTraces(traces([span]));
    expect(span.attributes.map((e) => [e.key, show(e.value)])).toEqual([
      ['first', '{"stringValue":"1"}'],
      ['[REDACTED:email]', '{"intValue":"1"}'],
      ['[REDACTED:email]#3', '{"intValue":"2"}'],
      ['[REDACTED:email]#2', '{"stringValue":"already there"}'],
      ['m', expect.any(String)],
    ]);
    expect(keysOf(attr(span.attributes, 'm'))).toEqual([
      '[REDACTED:email]',
      '[REDACTED:email]#2',
      '[REDACTED:email]#3',
    ]);
    expect(r.counts.email).toEqual({ mask: 5 });
    // a second pass finds nothing left: same keys, nothing counted
    const before = show(span);
    expect(policy.redactTraces(traces([span])).total).toBe(0);
    expect(show(span)).toBe(before);
  });

  it('many colliding keys in one map are renamed in linear time', () => {
    // no timing assert: a quadratic renaming takes minutes here and Jest's timeout fails it
    const values = Array.from({ length: 40_000 }, (_, i) => int(`u${i}@x.io`, BigInt(i)));
    const span = makeSpan([kv('index', map(...values))]);
    compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactTraces(traces([span]));
    const keys = keysOf(attr(span.attributes, 'index'));
    expect(new Set(keys).size).toBe(40_000);
    expect(keys[39_999]).toBe('[REDACTED:email]#40000');
  });

  it('drop removes the entry whose key holds the detection, at the top and nested', () => {
    const c = cfg({ summary: 'debug', detectors: { overrides: { email: 'drop' } } });
    const span = makeSpan([
      int('jane@example.com', 1n),
      str('keep', 'k'),
      kv('index', map(int('bob@example.com', 2n), int('n', 3n))),
    ]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(show(span)).not.toContain('@example.com');
    expect(attr(span.attributes, 'keep')).toEqual({ stringValue: 'k' });
    expect(keysOf(attr(span.attributes, 'index'))).toEqual(['n']);
    expect(r.counts.email).toEqual({ drop: 2 });
    expect(r.removed).toBe(2);
    // the summary names the rule, never the raw key
    expect(attr(span.attributes, SUMMARY_ATTRIBUTES.redactedKeys)).toEqual({
      stringValue: '[REDACTED:email]',
    });
  });

  it('hash gives the HMAC form: stable across spans and runs, distinct per key', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { email: 'hash' } } });
    const hmac = (s: string) =>
      `[HASH:email:${createHmac('sha256', KEY).update(s, 'utf8').digest('hex').slice(0, 32)}]`;
    const mk = () =>
      makeSpan([int('jane@example.com', 1n), kv('index', map(int('bob@example.com', 2n)))]);
    const a = mk();
    const b = mk();
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([a]));
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([b]));
    expect(a.attributes[0].key).toBe(hmac('jane@example.com'));
    expect(keysOf(attr(a.attributes, 'index'))).toEqual([hmac('bob@example.com')]);
    expect(show(a)).toBe(show(b));
    expect(show(a)).not.toContain('@example.com');
  });

  it('restrict, partial and truncate act as mask on a key (the key itself is the secret)', () => {
    const c = cfg({
      ...SILENT,
      detectors: {
        overrides: {
          email: 'restrict',
          phone: { action: 'partial', keepLast: 4 },
          ipv4: { action: 'truncate', maxLength: 4 },
        },
      },
    });
    const span = makeSpan([
      int('jane@example.com', 1n),
      int('+1 415 555 2671', 2n),
      int('peer 192.168.1.20 up', 3n),
    ]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes.map((e) => e.key)).toEqual([
      '[REDACTED:email]',
      '[REDACTED:phone]',
      'peer [REDACTED:ipv4] up',
    ]);
    expect(r.counts).toEqual({ email: { mask: 1 }, phone: { mask: 1 }, ipv4: { mask: 1 } });
    expect(attr(span.attributes, RESTRICTED_KEYS_ATTRIBUTE)).toBeUndefined();
  });

  it('a restricted value under a renamed key is marked by the new name', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { jwt: 'restrict' } } });
    const span = makeSpan([str('jane@example.com', `token ${JWT}`)]);
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(restrictedKeysOf(span.attributes)).toEqual(['[REDACTED:email]']);
    expect(show(span)).not.toContain('jane@example.com');
  });

  it('the summary counts detections in keys and lists only the new names', () => {
    const c = cfg({ summary: 'debug' });
    const span = makeSpan([
      int('jane@example.com', 1n),
      kv('index', map(int('bob@example.com', 2n))),
    ]);
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    const det = attr(span.attributes, SUMMARY_ATTRIBUTES.detections);
    expect(det?.kvlistValue?.values).toEqual([int('email.mask', 2n)]);
    expect(attr(span.attributes, SUMMARY_ATTRIBUTES.maskedKeys)).toEqual({
      stringValue: ['[REDACTED:email]', 'index'].sort().join(','),
    });
    expect(attr(span.attributes, SUMMARY_ATTRIBUTES.maskedCount)).toEqual({ intValue: 2n });
    expect(show(span)).not.toContain('@example.com');
  });

  it('key rules still act on the raw key, whose own secret is masked too', () => {
    const c = cfg({
      ...SILENT,
      blockedKeys: [{ name: 'hdr', patterns: ['^x-api-key'], action: 'mask' }],
    });
    const span = makeSpan([str('x-api-key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234', 'value')]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes).toEqual([str('x-api-key [REDACTED:openai_api_key]', '[REDACTED:hdr]')]);
    expect(r.counts).toEqual({ openai_api_key: { mask: 1 }, hdr: { mask: 1 } });
  });

  it('allow-list mode: a key not listed is removed unscanned; nested keys of listed ones are scanned', () => {
    const c = cfg({ ...SILENT, allowedKeys: ['index', 'msg'] });
    const span = makeSpan([
      int('jane@example.com', 1n),
      kv('index', map(int('bob@example.com', 2n))),
    ]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes.map((e) => e.key)).toEqual(['index']);
    expect(keysOf(attr(span.attributes, 'index'))).toEqual(['[REDACTED:email]']);
    expect(r.counts).toEqual({ allow_list: { drop: 1 }, email: { mask: 1 } });
    // structured log bodies: the allow-list applies at every depth, before any scan
    const log = makeLog(map(str('msg', 'hi'), int('ann@example.com', 1n)));
    const lr = compileRedaction(c, { hmacKey: KEY }).redactLogs(logs([log]));
    expect(log.body?.kvlistValue?.values).toEqual([str('msg', 'hi')]);
    expect(lr.counts).toEqual({ allow_list: { drop: 1 } });
  });

  it('ignored keys are kept untouched, name included (the tenant listed them)', () => {
    const c = cfg({ ...SILENT, ignoredKeys: ['ops@example.com'] });
    const span = makeSpan([str('ops@example.com', 'x'), int('jane@example.com', 1n)]);
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes.map((e) => e.key)).toEqual(['ops@example.com', '[REDACTED:email]']);
  });

  it('a client map under a reserved summary name has its keys scanned too', () => {
    const span = makeSpan([kv(SUMMARY_ATTRIBUTES.detections, map(int('jane@example.com', 1n)))]);
    compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactTraces(traces([span]));
    expect(show(span)).not.toContain('jane@example.com');
  });

  it('tenant patterns and allowed values apply to keys as to values', () => {
    const c = cfg({
      ...SILENT,
      customPatterns: [{ name: 'ticket', pattern: 'TCK-[0-9]{6}' }],
      allowedValues: ['.+@corp\\.example'],
    });
    const span = makeSpan([int('TCK-123456', 1n), int('ops@corp.example', 2n)]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes.map((e) => e.key)).toEqual(['[REDACTED:ticket]', 'ops@corp.example']);
    expect(r.counts).toEqual({ ticket: { mask: 1 } });
  });

  it('short and clean keys are left as they are (same strings)', () => {
    const attrs = [int('id', 1n), str('gen_ai.request.model', 'gpt-4o'), int('a@', 2n)];
    const span = makeSpan(attrs.map((e) => ({ ...e })));
    const r = compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.attributes).toEqual(attrs);
    expect(r.total).toBe(0);
  });
});

describe('properties: secrets planted as map keys never survive (fast and reference)', () => {
  const secrets = [
    'bob@example.com',
    '4111 1111 1111 1111',
    'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
    JWT,
    'AKIAIOSFODNN7EXAMPLE',
    '123-45-6789',
    'DE89 3704 0044 0532 0130 00',
    'glpat-AbCdEfGhIjKlMnOpQrSt',
    '+1 415 555 2671',
  ];
  const word = fc.stringMatching(/^[a-z_.]{1,10}$/);
  const plantedKey = fc
    .tuple(
      fc.constantFrom('', 'user ', 'x: '),
      fc.constantFrom(...secrets),
      fc.constantFrom('', ' ok', '/1'),
    )
    .map(([p, s, q]) => `${p}${s}${q}`);
  const key = fc.oneof({ weight: 2, arbitrary: word }, { weight: 2, arbitrary: plantedKey });
  const leaf: fc.Arbitrary<AnyValue> = fc.oneof(
    word.map((s) => ({ stringValue: s })),
    fc.bigInt({ min: 0n, max: 999n }).map((n) => ({ intValue: n })),
    fc.boolean().map((b) => ({ boolValue: b })),
  );
  const { value } = fc.letrec<{ value: AnyValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
      fc
        .array(fc.tuple(key, tie('value')), { maxLength: 4 })
        .map((es) => ({ kvlistValue: { values: es.map(([k, v]) => kv(k, v)) } })),
    ),
  }));
  const attrs = fc
    .array(fc.tuple(key, value), { maxLength: 5 })
    .map((es) => es.map(([k, v]) => kv(k, v)));

  it.each([
    ['the default policy', DEFAULT_REDACTION_CONFIG],
    [
      'hash, drop and restrict actions, debug summaries, a shallow maxDepth',
      cfg({
        summary: 'debug',
        scan: { maxDepth: 4 },
        detectors: { overrides: { email: 'hash', payment_card: 'drop', jwt: 'restrict' } },
      }),
    ],
  ])('%s', (_label, config) => {
    const fast = compileRedaction(config, { hmacKey: KEY });
    const ref = compileRedaction(config, { hmacKey: KEY, referenceScan: true });
    fc.assert(
      fc.property(attrs, attrs, value, (spanAttrs, eventAttrs, body) => {
        const mk = () => {
          const span = makeSpan(structuredClone(spanAttrs));
          span.events.push({
            timeUnixNano: 1n,
            name: 'e',
            attributes: structuredClone(eventAttrs),
            droppedAttributesCount: 0,
          });
          return {
            t: traces([span], structuredClone(eventAttrs)),
            l: logs([makeLog(structuredClone(body), structuredClone(spanAttrs))]),
          };
        };
        const a = mk();
        const b = mk();
        const ra = fast.redactTraces(a.t);
        const la = fast.redactLogs(a.l);
        expect(ra).toEqual(ref.redactTraces(b.t));
        expect(la).toEqual(ref.redactLogs(b.l));
        const out = show(a);
        expect(out).toBe(show(b));
        for (const s of secrets) expect(out).not.toContain(s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('JSON object keys follow the same key actions', () => {
  it('partial and restrict on a key inside a JSON string mask it; hash keeps the HMAC form', () => {
    const c = cfg({
      ...SILENT,
      detectors: { overrides: { phone: { action: 'partial', keepLast: 4 }, email: 'hash' } },
    });
    const engine = compileRedaction(c, { hmacKey: KEY });
    const out = JSON.parse(
      engine.redactText(JSON.stringify({ '+1 415 555 2671': 1, 'jane@example.com': 2 })),
    ) as Record<string, number>;
    expect(Object.keys(out)[0]).toBe('[REDACTED:phone]');
    expect(Object.keys(out)[1]).toMatch(/^\[HASH:email:[0-9a-f]{32}\]$/);
    expect(Object.values(out)).toEqual([1, 2]);
  });
});
