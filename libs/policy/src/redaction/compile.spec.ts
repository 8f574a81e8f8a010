import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import type { KeyValue } from '@custodian/otlp';
import { compileRedaction, requiredLiteral, SUMMARY_ATTRIBUTES } from './compile';
import { DEFAULT_REDACTION_CONFIG, RedactionConfig, validateRedactionConfig } from './config';
import { RESTRICTED_KEYS_ATTRIBUTE, restrictedKeysOf, stripRestrictedTraces } from './restricted';
import {
  agentSpan,
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
import { agentRuns } from '../../testdata/redaction/agent-runs';

const KEY = new Uint8Array(32).fill(7);

/** A config from a partial document (defaults filled in, must be valid). */
function cfg(raw: Record<string, unknown>): RedactionConfig {
  const r = validateRedactionConfig(raw);
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

function run(config: RedactionConfig, attributes: KeyValue[]) {
  const span = makeSpan(attributes);
  const result = compileRedaction(config, { hmacKey: KEY }).redactTraces(traces([span]));
  return { span, result, a: (k: string) => attr(span.attributes, k) };
}

const SILENT = { summary: 'silent' } as const;

describe('actions', () => {
  it('mask replaces the detection with a token naming the detector', () => {
    const { a, result } = run(cfg(SILENT), [str('note', 'mail bob@example.com please')]);
    expect(a('note')?.stringValue).toBe('mail [REDACTED:email] please');
    expect(result.counts).toEqual({ email: { mask: 1 } });
    expect(result.total).toBe(1);
  });

  it('partial keeps the last 4 characters only', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { payment_card: 'partial' } } });
    const { a } = run(c, [
      str('note', 'card 4111 1111 1111 1234 0000'.replace(' 0000', '')),
      str('n2', 'c 4242424242424242'),
    ]);
    expect(a('n2')?.stringValue).toBe('c [REDACTED:payment_card:…4242]');
  });

  it('partial on a short value reveals nothing', () => {
    const c = cfg({ ...SILENT, blockedKeys: [{ keys: ['pin'], action: 'partial' }] });
    expect(run(c, [str('pin', '123456')]).a('pin')?.stringValue).toBe('[REDACTED:blocked_key]');
  });

  it('hash is HMAC-SHA256 under the tenant key: stable across spans, different per key', () => {
    const c = cfg({ ...SILENT, detectors: { action: 'hash' } });
    const one = run(c, [str('a', 'from bob@example.com')]).a('a')?.stringValue;
    const two = run(c, [str('b', 'to bob@example.com!')]).a('b')?.stringValue;
    const expected = createHmac('sha256', KEY).update('bob@example.com').digest('hex').slice(0, 32);
    expect(one).toBe(`from [HASH:email:${expected}]`);
    expect(two).toBe(`to [HASH:email:${expected}]!`);
    const other = compileRedaction(c, { hmacKey: new Uint8Array(32).fill(8) });
    const span = makeSpan([str('a', 'from bob@example.com')]);
    other.redactTraces(traces([span]));
    expect(span.attributes[0].value.stringValue).not.toBe(one);
    expect(one).not.toContain('bob');
  });

  it('drop removes the attribute holding a detection', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { us_ssn: 'drop' } } });
    const { span, result } = run(c, [str('keep', 'ok'), str('ssn', 'is 123-45-6789')]);
    expect(span.attributes.map((x) => x.key)).toEqual(['keep']);
    expect(result.removed).toBe(1);
    expect(result.counts).toEqual({ us_ssn: { drop: 1 } });
  });

  it('drop inside an array removes the element; inside a map removes the entry', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { email: 'drop' } } });
    const { a } = run(c, [
      kv('list', { arrayValue: { values: [{ stringValue: 'a@b.io' }, { stringValue: 'fine' }] } }),
      kv('map', { kvlistValue: { values: [str('x', 'c@d.io'), str('y', 'fine')] } }),
    ]);
    expect(a('list')?.arrayValue?.values).toEqual([{ stringValue: 'fine' }]);
    expect(a('map')?.kvlistValue?.values).toEqual([str('y', 'fine')]);
  });

  it('truncate cuts a detected string before its first detection; a key rule keeps maxLength', () => {
    const c = cfg({
      ...SILENT,
      detectors: { overrides: { email: 'truncate' } },
      blockedKeys: [{ keys: ['notes'], action: { action: 'truncate', maxLength: 5 } }],
    });
    const { a } = run(c, [
      str('msg', 'contact alice@example.com for help'),
      str('notes', 'long internal notes'),
    ]);
    expect(a('msg')?.stringValue).toBe('contact [TRUNCATED:email]');
    expect(a('notes')?.stringValue).toBe('long [TRUNCATED:blocked_key]');
  });

  it('a truncating key rule redacts the value before it cuts: the kept prefix never carries a detection', () => {
    const c = cfg({
      ...SILENT,
      blockedKeys: [{ keys: ['notes', 'args'], action: { action: 'truncate', maxLength: 40 } }],
    });
    const { span, a } = run(c, [
      str('notes', 'mail bob@example.com, key sk-proj-abcdef0123456789abcdef, then a long tail'),
      kv('args', {
        kvlistValue: {
          values: [str('jane@example.com', 'x'), str('token', 'sk-proj-zzzzyyyyxxxxwwwwvvvv1234')],
        },
      }),
    ]);
    expect(a('notes')?.stringValue).toMatch(/^mail \[REDACTED:email\], key \[REDACTED:/);
    expect(a('notes')?.stringValue).toMatch(/\[TRUNCATED:blocked_key\]$/);
    const out = JSON.stringify(span, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const secret of ['bob@example.com', 'jane@example.com', 'sk-proj-abcdef', 'sk-proj-zzzz'])
      expect(out).not.toContain(secret);
    expect(a('args')?.stringValue).toMatch(/\[TRUNCATED:blocked_key\]$/);
  });

  it('restrict keeps the value and lists the key in custodian.restricted_keys', () => {
    const c = cfg({ ...SILENT, detectors: { overrides: { email: 'restrict' } } });
    const { span, a, result } = run(c, [str('customer', 'alice@example.com'), str('other', 'x')]);
    expect(a('customer')?.stringValue).toBe('alice@example.com');
    expect(restrictedKeysOf(span.attributes)).toEqual(['customer']);
    expect(result.restricted).toBe(1);
  });

  it('applies to non-string values as strings when scan.nonStringValues is on', () => {
    const on = cfg({ ...SILENT, scan: { nonStringValues: true } });
    expect(run(on, [int('cc', 4111111111111111n)]).a('cc')).toEqual({
      stringValue: '[REDACTED:payment_card]',
    });
    expect(run(cfg(SILENT), [int('cc', 4111111111111111n)]).a('cc')).toEqual({
      intValue: 4111111111111111n,
    });
  });
});

describe('key rules', () => {
  it('allow-list fails closed: only listed keys survive, an empty list removes everything', () => {
    const c = cfg({ ...SILENT, allowedKeys: ['id', 'name'] });
    const { span, result } = run(c, [
      str('id', '1'),
      str('secret.stuff', 'x'),
      str('name', 'n'),
      str('other', 'y'),
    ]);
    expect(span.attributes.map((x) => x.key)).toEqual(['id', 'name']);
    expect(result.counts).toEqual({ allow_list: { drop: 2 } });
    const empty = run(cfg({ ...SILENT, allowedKeys: [] }), [str('id', '1'), str('b', '2')]);
    expect(empty.span.attributes).toEqual([]);
  });

  it('allowed keys are still scanned; ignored keys pass untouched and need no allow-listing', () => {
    const c = cfg({ ...SILENT, allowedKeys: ['note'], ignoredKeys: ['raw'] });
    const { a } = run(c, [str('note', 'x@y.io'), str('raw', 'x@y.io')]);
    expect(a('note')?.stringValue).toBe('[REDACTED:email]');
    expect(a('raw')?.stringValue).toBe('x@y.io');
  });

  it('ignored key patterns (RE2)', () => {
    const c = cfg({ ...SILENT, ignoredKeyPatterns: ['^safe\\.'] });
    expect(run(c, [str('safe.mail', 'x@y.io')]).a('safe.mail')?.stringValue).toBe('x@y.io');
  });

  it('blocked keys by name and by pattern mask the whole value, whatever its type', () => {
    const c = cfg({
      ...SILENT,
      blockedKeys: [
        { name: 'ref', keys: ['customer.ref'], action: 'mask' },
        { patterns: ['(?i)token'], action: 'mask' },
      ],
    });
    const { a } = run(c, [
      str('customer.ref', 'C-1'),
      int('my_TOKEN_id', 42n),
      kv('session.token.parts', { arrayValue: { values: [{ stringValue: 'a' }] } }),
    ]);
    expect(a('customer.ref')?.stringValue).toBe('[REDACTED:ref]');
    expect(a('my_TOKEN_id')).toEqual({ stringValue: '[REDACTED:blocked_key]' });
    expect(a('session.token.parts')).toEqual({ stringValue: '[REDACTED:blocked_key]' });
  });

  it('a key naming a credential has its whole value redacted even without key rules', () => {
    const c = cfg({ ...SILENT, blockedKeys: [] });
    const { a } = run(c, [
      str('db.password', 'correct horse'),
      kv('cfg', { kvlistValue: { values: [str('clientSecret', 'abc')] } }),
      int('max_tokens', 100n),
    ]);
    expect(a('db.password')?.stringValue).toBe('[REDACTED:secret_assignment]');
    expect(a('cfg')?.kvlistValue?.values[0].value.stringValue).toBe('[REDACTED:secret_assignment]');
    expect(a('max_tokens')).toEqual({ intValue: 100n });
  });

  it('the default policy masks authorization headers and cookies by key', () => {
    const { a } = run(DEFAULT_REDACTION_CONFIG, [
      str('http.request.header.authorization', 'Negotiate abc'),
      str('cookie', 'sid=1'),
    ]);
    expect(a('http.request.header.authorization')?.stringValue).toBe('[REDACTED:sensitive_key]');
    expect(a('cookie')?.stringValue).toBe('[REDACTED:sensitive_key]');
  });
});

describe('custom patterns and allowed values', () => {
  it('tenant RE2 patterns redact with their own name', () => {
    const c = cfg({ ...SILENT, customPatterns: [{ name: 'order_id', pattern: 'ORD-[0-9]{8}' }] });
    expect(run(c, [str('o', 'see ORD-12345678 and ORD-1')]).a('o')?.stringValue).toBe(
      'see [REDACTED:order_id] and ORD-1',
    );
  });

  it('custom and built-in detections that overlap are redacted once', () => {
    const c = cfg({
      ...SILENT,
      customPatterns: [{ name: 'mail_domain', pattern: '@example\\.com' }],
    });
    expect(run(c, [str('o', 'bob@example.com')]).a('o')?.stringValue).toBe('[REDACTED:email]');
  });

  it('allowed values exempt covered PII, never secrets', () => {
    const c = cfg({ ...SILENT, allowedValues: ['[a-z]+@acme\\.example', 'sk-proj-[A-Za-z0-9]+'] });
    const { a, result } = run(c, [
      str('m', 'ops@acme.example and eve@evil.example'),
      str('k', 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234'),
    ]);
    expect(a('m')?.stringValue).toBe('ops@acme.example and [REDACTED:email]');
    expect(a('k')?.stringValue).toBe('[REDACTED:openai_api_key]');
    expect(result.counts.email).toEqual({ mask: 1 });
  });

  it('gates a tenant pattern on a literal every match contains, only when there is one', () => {
    expect(requiredLiteral('TCK-[0-9]{6}')).toBe('TCK-');
    expect(requiredLiteral('ORD-[0-9]{8}')).toBe('ORD-');
    expect(requiredLiteral('hunter2?')).toBe('hunter');
    expect(requiredLiteral('ab*c')).toBe('a');
    expect(requiredLiteral('id=\\d+')).toBe('id=');
    // anywhere in the pattern, not only at its start: the longest run
    expect(requiredLiteral('\\bkey')).toBe('key');
    expect(requiredLiteral('[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}')).toBe('@');
    expect(requiredLiteral('sk-[A-Za-z0-9_-]{16,}')).toBe('sk-');
    expect(requiredLiteral('[0-9]{3}-secret-(a|b)+x')).toBe('-secret-');
    expect(requiredLiteral('(?:ab|cd)efg?h')).toBe('ef');
    expect(requiredLiteral('x{2,5}yz\\.w*')).toBe('yz.');
    expect(requiredLiteral('[]a]+--[^]]')).toBe('--');
    for (const none of [
      'a|b',
      'TCK-[0-9]|ORD',
      '(?i)secret',
      'x(?i:y)z(?-i)w',
      '[a-z]+',
      'a*',
      '\\x41\\x42',
      '\\pLabc?',
      'ab{',
      '(unclosed',
      '[unclosed',
      'é?',
    ])
      expect(requiredLiteral(none)).toBe('');
    // sound: whenever RE2 finds a match, the string holds the gate (random strings over the
    // patterns' own characters, so matches are common)
    const patterns = [
      '[a-z0-9.]+@[a-z]+\\.[a-z]{2,}',
      'ab+c?d',
      '(x|y)z{2,}w',
      '\\bk[0-9]*-ey\\.',
      'a.b\\+c',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.string({ unit: fc.constantFrom(...'abcdkwxyz0123.@-+ey'), maxLength: 24 }),
        (pattern, text) => {
          const gate = requiredLiteral(pattern);
          expect(gate).not.toBe('');
          if (RE2JS.compile(pattern).matcher(text).find()) expect(text).toContain(gate);
        },
      ),
      { numRuns: 3000 },
    );
    // and the gate never hides a match: same output as the ungated reference engine
    const c = cfg({ ...SILENT, customPatterns: [{ name: 't', pattern: 'TCK-[0-9]{6}' }] });
    const fast = compileRedaction(c, { hmacKey: KEY });
    const ref = compileRedaction(c, { hmacKey: KEY, referenceScan: true });
    for (const t of ['see TCK-123456 now', 'TCK-12345', 'tck-123456', 'xTCK-1234567'])
      expect(fast.redactText(t)).toBe(ref.redactText(t));
    expect(fast.redactText('see TCK-123456 now')).toBe('see [REDACTED:t] now');
  });

  it('refuses a pattern that needs backtracking at compile time with its path', () => {
    const c: RedactionConfig = {
      ...cfg(SILENT),
      customPatterns: [{ name: 'x', pattern: '(a)\\1', action: { action: 'mask' } }],
    };
    expect(() => compileRedaction(c, { hmacKey: KEY })).toThrow(/customPatterns\[0\]\.pattern/);
  });

  it('needs an HMAC key of at least 16 bytes', () => {
    expect(() => compileRedaction(cfg(SILENT), { hmacKey: new Uint8Array(4) })).toThrow(/hmacKey/);
  });
});

describe('where it looks', () => {
  it('nested arrays and maps at any depth', () => {
    const { a } = run(cfg(SILENT), [
      kv('deep', {
        kvlistValue: {
          values: [
            kv('list', {
              arrayValue: {
                values: [{ arrayValue: { values: [{ stringValue: 'ip 10.1.2.3' }] } }],
              },
            }),
          ],
        },
      }),
    ]);
    const inner =
      a('deep')?.kvlistValue?.values[0].value.arrayValue?.values[0].arrayValue?.values[0];
    expect(inner?.stringValue).toBe('ip [REDACTED:ipv4]');
  });

  it('content deeper than maxDepth is masked whole', () => {
    let v: KeyValue['value'] = { stringValue: 'x' };
    for (let i = 0; i < 5; i++) v = { arrayValue: { values: [v] } };
    const { a, result } = run(cfg({ ...SILENT, scan: { maxDepth: 3 } }), [kv('deep', v)]);
    expect(JSON.stringify(a('deep'), (_k, x) => (typeof x === 'bigint' ? String(x) : x))).toContain(
      '[REDACTED:max_depth]',
    );
    expect(result.counts.max_depth).toEqual({ mask: 1 });
  });

  it('resource, scope, span, event and link attributes, span and event names, status', () => {
    const span = makeSpan([str('s', 'a@b.io')], 'GET /users/a@b.io');
    span.status = { code: 2, message: 'failed for a@b.io' };
    span.events.push({
      timeUnixNano: 1n,
      name: 'mail a@b.io',
      attributes: [str('e', 'a@b.io')],
      droppedAttributesCount: 0,
    });
    span.links.push({
      traceId: new Uint8Array(16),
      spanId: new Uint8Array(8),
      traceState: '',
      attributes: [str('l', 'a@b.io')],
      droppedAttributesCount: 0,
      flags: 0,
    });
    const data = traces([span], [str('r', 'a@b.io')], [str('sc', 'a@b.io')]);
    const result = compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactTraces(data);
    expect(JSON.stringify(data, (_k, x) => (typeof x === 'bigint' ? String(x) : x))).not.toContain(
      'a@b.io',
    );
    expect(span.name).toBe('GET /users/[REDACTED:email]');
    expect(result.counts.email?.mask).toBe(8);
  });

  it('span names mask even when the action is drop or restrict', () => {
    const c = cfg({ ...SILENT, detectors: { action: 'drop' } });
    const span = makeSpan([], 'mail a@b.io');
    compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(span.name).toBe('mail [REDACTED:email]');
  });

  it('log bodies: strings, structured maps (with the allow-list) and JSON strings', () => {
    const c = cfg({ ...SILENT, allowedKeys: ['msg', 'user'] });
    const l1 = makeLog({ stringValue: 'login by a@b.io' });
    const l2 = makeLog({
      kvlistValue: { values: [str('msg', 'from 10.0.0.1'), str('user', 'u1'), str('extra', 'x')] },
    });
    const l3 = makeLog({ stringValue: '{"event":"login","email":"a@b.io"}' });
    const result = compileRedaction(c, { hmacKey: KEY }).redactLogs(logs([l1, l2, l3]));
    expect(l1.body?.stringValue).toBe('login by [REDACTED:email]');
    expect(l2.body?.kvlistValue?.values).toEqual([
      str('msg', 'from [REDACTED:ipv4]'),
      str('user', 'u1'),
    ]);
    expect(JSON.parse(l3.body!.stringValue!)).toEqual({
      event: 'login',
      email: '[REDACTED:email]',
    });
    expect(result.counts).toMatchObject({
      email: { mask: 2 },
      ipv4: { mask: 1 },
      allow_list: { drop: 1 },
    });
  });

  it('log body restricted by a detection is marked $body; dropped body is removed', () => {
    const r = cfg({ ...SILENT, detectors: { overrides: { email: 'restrict', us_ssn: 'drop' } } });
    const l1 = makeLog({ stringValue: 'a@b.io' });
    const l2 = makeLog({ stringValue: 'ssn 123-45-6789' });
    compileRedaction(r, { hmacKey: KEY }).redactLogs(logs([l1, l2]));
    expect(restrictedKeysOf(l1.attributes)).toEqual(['$body']);
    expect(l2.body).toBeUndefined();
  });

  it('metric data point attributes', () => {
    const data = gaugeMetrics([[str('user.email', 'a@b.io'), str('model', 'gpt-4o')]]);
    const result = compileRedaction(cfg(SILENT), { hmacKey: KEY }).redactMetrics(data);
    const point = data.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge!.dataPoints[0];
    expect(attr(point.attributes, 'user.email')?.stringValue).toBe('[REDACTED:email]');
    expect(attr(point.attributes, 'model')?.stringValue).toBe('gpt-4o');
    expect(result.total).toBe(1);
  });
});

describe('GenAI content and JSON inside strings', () => {
  const messages = JSON.stringify([
    {
      role: 'user',
      parts: [{ type: 'text', content: 'I am bob@example.com, card 4111111111111111' }],
    },
    {
      role: 'assistant',
      parts: [
        {
          type: 'tool_call',
          name: 'lookup',
          // double-encoded JSON, as tool arguments often are
          arguments: JSON.stringify({
            email: 'bob@example.com',
            api_key: 'abc',
            n: 4111111111111111,
          }),
        },
      ],
    },
  ]);

  it('redacts inside JSON strings and keeps them valid JSON (also double-encoded)', () => {
    const { a } = run(cfg(SILENT), [str('gen_ai.input.messages', messages)]);
    const out = a('gen_ai.input.messages')!.stringValue!;
    const parsed = JSON.parse(out);
    expect(parsed[0].parts[0].content).toBe('I am [REDACTED:email], card [REDACTED:payment_card]');
    const args = JSON.parse(parsed[1].parts[0].arguments);
    expect(args).toEqual({
      email: '[REDACTED:email]',
      api_key: '[REDACTED:sensitive_key]',
      n: '[REDACTED:payment_card]',
    });
    expect(out).not.toMatch(/bob@|4111/);
  });

  it('restricts the GenAI content attributes by default, old and OpenInference forms too', () => {
    const keys = [
      'gen_ai.input.messages',
      'gen_ai.output.messages',
      'gen_ai.system_instructions',
      'gen_ai.tool.call.arguments',
      'gen_ai.tool.call.result',
      'gen_ai.prompt.0.content',
      'gen_ai.completion.0.content',
      'llm.input_messages.0.message.content',
      'input.value',
    ];
    const { span } = run(cfg(SILENT), [...keys.map((k) => str(k, 'hello')), str('llm.model', 'x')]);
    expect(restrictedKeysOf(span.attributes).sort()).toEqual([...keys].sort());
    expect(attr(span.attributes, 'input.value')?.stringValue).toBe('hello');
  });

  it('a string that looks like JSON but is not is scanned as plain text', () => {
    const { a } = run(cfg(SILENT), [str('x', '{"broken": "a@b.io", ')]);
    expect(a('x')?.stringValue).toBe('{"broken": "[REDACTED:email]", ');
  });

  it('unicode escapes cannot hide a secret', () => {
    const { a } = run(cfg(SILENT), [str('x', '{"m":"bob\\u0040example.com"}')]);
    expect(JSON.parse(a('x')!.stringValue!)).toEqual({ m: '[REDACTED:email]' });
  });

  it('clean JSON is left byte-for-byte unchanged', () => {
    const clean = '{ "a": 1,\n  "b": "hello" }';
    expect(run(cfg(SILENT), [str('x', clean)]).a('x')?.stringValue).toBe(clean);
  });

  it('content action other than restrict applies to the whole value', () => {
    const c = cfg({ ...SILENT, contentKeys: { action: 'drop' } });
    const { span } = run(c, [str('gen_ai.input.messages', '[]'), str('k', 'v')]);
    expect(span.attributes.map((x) => x.key)).toEqual(['k']);
  });
});

describe('summary (Collector attribute names, never values)', () => {
  it('info records counts; debug adds key names; silent records nothing', () => {
    const attrs = () => [
      str('note', 'a@b.io'),
      str('gone', 'x'),
      str('ok', 'fine'),
      str('safe', 'a@b.io'),
    ];
    const base = { allowedKeys: ['note', 'ok'], ignoredKeys: ['safe'] };
    const info = run(cfg({ ...base, summary: 'info' }), attrs());
    expect(info.a(SUMMARY_ATTRIBUTES.maskedCount)).toEqual({ intValue: 1n });
    expect(info.a(SUMMARY_ATTRIBUTES.redactedCount)).toEqual({ intValue: 1n });
    expect(info.a(SUMMARY_ATTRIBUTES.ignoredCount)).toEqual({ intValue: 1n });
    expect(info.a(SUMMARY_ATTRIBUTES.maskedKeys)).toBeUndefined();
    const det = info.a(SUMMARY_ATTRIBUTES.detections)?.kvlistValue?.values;
    expect(det).toEqual(
      expect.arrayContaining([
        kv('email.mask', { intValue: 1n }),
        kv('allow_list.drop', { intValue: 1n }),
      ]),
    );

    const debug = run(cfg({ ...base, summary: 'debug' }), attrs());
    expect(debug.a(SUMMARY_ATTRIBUTES.maskedKeys)).toEqual({ stringValue: 'note' });
    expect(debug.a(SUMMARY_ATTRIBUTES.redactedKeys)).toEqual({ stringValue: 'gone' });

    const silent = run(cfg({ ...base, summary: 'silent' }), attrs());
    expect(silent.span.attributes.filter((x) => x.key.includes('redaction'))).toEqual([]);
    const summary = debug.span.attributes.filter((x) => x.key.includes('redaction'));
    expect(
      JSON.stringify(summary, (_k, x) => (typeof x === 'bigint' ? String(x) : x)),
    ).not.toContain('a@b.io');
  });

  it('log body summaries use the redaction.body.* names', () => {
    const log = makeLog({ stringValue: 'a@b.io' });
    compileRedaction(cfg({ summary: 'info' }), { hmacKey: KEY }).redactLogs(logs([log]));
    expect(attr(log.attributes, SUMMARY_ATTRIBUTES.bodyMaskedCount)).toEqual({ intValue: 1n });
  });
});

describe('restricted values and sinks', () => {
  it('stripRestrictedTraces replaces restricted values without touching the input', () => {
    const data = traces([agentSpan(1)]);
    compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY }).redactTraces(data);
    const span = data.resourceSpans[0].scopeSpans[0].spans[0];
    const before = attr(span.attributes, 'gen_ai.input.messages')?.stringValue;
    const stripped = stripRestrictedTraces(data);
    const s2 = stripped.resourceSpans[0].scopeSpans[0].spans[0];
    expect(attr(s2.attributes, 'gen_ai.input.messages')).toEqual({ stringValue: '[RESTRICTED]' });
    expect(attr(s2.attributes, 'gen_ai.request.model')?.stringValue).toBe('gpt-4o-2024-08-06');
    expect(attr(span.attributes, 'gen_ai.input.messages')?.stringValue).toBe(before);
    expect(restrictedKeysOf(s2.attributes)).toEqual([
      'gen_ai.input.messages',
      'gen_ai.output.messages',
    ]);
  });

  it('data without restricted values is returned as is (no copy)', () => {
    const data = traces([makeSpan([str('a', 'b')])]);
    expect(stripRestrictedTraces(data)).toBe(data);
  });
});

describe('the default platform policy on an agent span', () => {
  it('masks every secret and PII in prompts and headers, restricts the content, keeps the rest', () => {
    const data = traces([agentSpan(3)]);
    const result = compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY }).redactTraces(data);
    const span = data.resourceSpans[0].scopeSpans[0].spans[0];
    const text = JSON.stringify(span.attributes, (_k, x) =>
      typeof x === 'bigint' ? String(x) : x,
    );
    for (const secret of [
      'jane.doe3@example.com',
      '4111 1111 1111 1111',
      'sk-proj-AbCd',
      '+1 415 555 2671',
      '10.12.0.7',
    ])
      expect(text).not.toContain(secret);
    expect(JSON.parse(attr(span.attributes, 'gen_ai.input.messages')!.stringValue!)).toHaveLength(
      4,
    );
    expect(attr(span.attributes, 'run_id')?.stringValue).toBe('run-2024-05-01-1003');
    expect(attr(span.attributes, RESTRICTED_KEYS_ATTRIBUTE)).toBeDefined();
    expect(result.counts).toMatchObject({
      email: { mask: 1 },
      payment_card: { mask: 1 },
      phone: { mask: 1 },
      openai_api_key: { mask: 1 },
      ipv4: { mask: 1 },
      sensitive_key: { mask: 1 },
      content: { restrict: 2 },
    });
  });
});

describe('properties', () => {
  const word = fc.stringMatching(/^[a-z]{1,8}$/);
  const filler = fc
    .array(fc.oneof(word, fc.constantFrom(' ', ', ', '. ', '\n', ': ', '"')), { maxLength: 12 })
    .map((p) => p.join(''));
  const email = fc
    .tuple(word, word, fc.constantFrom('com', 'io', 'co.uk'))
    .map(([u, d, t]) => `${u}.x@${d}.${t}`);
  const card = fc
    .tuple(
      fc.constantFrom('4', '5', '37', '6011'),
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 11 }),
    )
    .map(([prefix, rest]) => {
      const digits = (prefix + rest.join('')).slice(0, 15);
      // complete with the Luhn check digit
      let sum = 0;
      for (let i = 0; i < digits.length; i++) {
        let d = Number(digits[digits.length - 1 - i]);
        if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
      }
      const full = digits + ((10 - (sum % 10)) % 10);
      return full.replace(/(\d{4})(?=\d)/g, '$1 ');
    });
  const alnum = fc.stringMatching(/^[A-Za-z0-9]{40}$/);
  const key = fc.oneof(
    alnum.map((s) => `sk-proj-${s}`),
    alnum.map((s) => `ghp_${s.slice(0, 36)}`),
    alnum.map((s) => `sk-ant-api03-${s}`),
    alnum.map((s) => `glpat-${s.slice(0, 20)}`),
    alnum.map((s) => `AKIA${s.slice(0, 16).toUpperCase()}`),
    alnum.map((s) => `xoxb-${s}`),
    alnum.map((s) => `AIza${s.slice(0, 35)}`),
  );
  const secret = fc.oneof(email, card, key);
  const compiled = compileRedaction(cfg(SILENT), { hmacKey: KEY });

  it('no secret embedded in random text survives a mask pass', () => {
    fc.assert(
      fc.property(filler, secret, filler, (pre, s, post) => {
        const out = compiled.redactText(`${pre} ${s} ${post}`);
        expect(out).not.toContain(s);
      }),
      { numRuns: 500 },
    );
  });

  it('no secret survives inside GenAI JSON either, and the JSON stays valid', () => {
    fc.assert(
      fc.property(filler, secret, filler, (pre, s, post) => {
        const doc = JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: `${pre} ${s} ${post}` }] },
        ]);
        const span = makeSpan([str('gen_ai.input.messages', doc)]);
        compiled.redactTraces(traces([span]));
        const out = span.attributes[0].value.stringValue!;
        expect(out).not.toContain(s);
        expect(() => JSON.parse(out)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('redaction is idempotent (text and items, including counts on the second pass)', () => {
    const full = compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY });
    fc.assert(
      fc.property(filler, secret, filler, secret, (pre, s1, mid, s2) => {
        const text = `${pre} ${s1} ${mid} password=${s2}`;
        const once = compiled.redactText(text);
        expect(compiled.redactText(once)).toBe(once);
        const span = makeSpan([
          str('note', text),
          str('gen_ai.input.messages', JSON.stringify({ t: text })),
        ]);
        const data = traces([span]);
        full.redactTraces(data);
        const snapshot = JSON.stringify(span.attributes, (_k, x) =>
          typeof x === 'bigint' ? String(x) : x,
        );
        const second = full.redactTraces(data);
        expect(
          JSON.stringify(span.attributes, (_k, x) => (typeof x === 'bigint' ? String(x) : x)),
        ).toBe(snapshot);
        expect(second.total).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('prefilter engine equals the reference (full-scan) engine (issue #4)', () => {
  const show = (d: unknown) =>
    JSON.stringify(d, (_k, x) =>
      typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? [...x] : x,
    );

  it('on agent runs with secrets in every prompt: same output, same result', () => {
    const fast = compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY });
    const ref = compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY, referenceScan: true });
    for (const seed of [1, 2, 3]) {
      const a = agentRuns({ runs: 12, secretRate: 1, seed });
      const b = agentRuns({ runs: 12, secretRate: 1, seed });
      const ra = fast.redactTraces(a);
      const rb = ref.redactTraces(b);
      expect(ra).toEqual(rb);
      expect(ra.total).toBeGreaterThan(0);
      expect(show(a)).toBe(show(b));
    }
  });

  it('on random text with embedded secrets, as free text and as GenAI JSON', () => {
    const c = cfg({
      summary: 'debug',
      detectors: { overrides: { email: 'hash', phone: 'partial' } },
    });
    const fast = compileRedaction(c, { hmacKey: KEY });
    const ref = compileRedaction(c, { hmacKey: KEY, referenceScan: true });
    const noise = fc.string({ unit: fc.constantFrom(...'ab1 :=@.-_"\'\n+(~'), maxLength: 12 });
    const secret = fc.constantFrom(
      'bob@example.com',
      '4111 1111 1111 1111',
      '+1 415 555 2671',
      'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
      'password=hunter22!',
      'Bearer abcdef1234567890xyz',
      '10.0.0.1',
      'fe80::1',
      'postgres://u:pw@db',
    );
    fc.assert(
      fc.property(noise, secret, noise, secret, noise, (p, s1, m, s2, q) => {
        const text = `${p}${s1}${m}${s2}${q}`;
        expect(fast.redactText(text)).toBe(ref.redactText(text));
        const mk = () =>
          traces([
            makeSpan([
              str('note', text),
              str('gen_ai.input.messages', JSON.stringify([{ content: text }])),
            ]),
          ]);
        const a = mk();
        const b = mk();
        expect(fast.redactTraces(a)).toEqual(ref.redactTraces(b));
        expect(show(a)).toBe(show(b));
      }),
      { numRuns: 400 },
    );
  });
});

describe('JSON inside strings: keys, escapes and the unparsed fast path (issue #4)', () => {
  /** JSON text as JSON.stringify writes it (formatting aside); anything else as it is. */
  const canonJson = (s: string): string => {
    try {
      return JSON.stringify(JSON.parse(s));
    } catch {
      return s;
    }
  };
  /** show(), with every string that is JSON text compared as canonJson. */
  const showCanon = (d: unknown) =>
    JSON.stringify(d, (_k, x) =>
      typeof x === 'bigint'
        ? String(x)
        : x instanceof Uint8Array
          ? [...x]
          : typeof x === 'string'
            ? canonJson(x)
            : x,
    );

  it('redacts detections in JSON without escapes in the raw text, keeping its formatting', () => {
    const red = compileRedaction(cfg(SILENT), { hmacKey: KEY });
    const pretty =
      '[\n  {"role": "user",\n   "content": "mail bob@example.com, card 4111 1111 1111 1111"}\n]';
    expect(red.redactText(pretty)).toBe(
      '[\n  {"role": "user",\n   "content": "mail [REDACTED:email], card [REDACTED:payment_card]"}\n]',
    );
    // a drop acts on the string that holds the detection, not the whole JSON text
    const dropping = compileRedaction(
      cfg({ ...SILENT, detectors: { overrides: { ipv4: 'drop' } } }),
      {
        hmacKey: KEY,
      },
    );
    const span = makeSpan([str('tool.args', '{"host": "10.0.0.7", "ok": "yes"}')]);
    dropping.redactTraces(traces([span]));
    expect(JSON.parse(attr(span.attributes, 'tool.args')!.stringValue!)).toEqual({ ok: 'yes' });
    // a repeated key: JSON.parse would keep the last value only; every value is redacted
    expect(red.redactText('{"a": "bob@example.com", "a": "x"}')).toBe(
      '{"a": "[REDACTED:email]", "a": "x"}',
    );
    // where the raw text cannot say what parsing would: parsed, redacted and serialized
    expect(red.redactText('{"bob@example.com": 1}')).toBe('{"[REDACTED:email]":1}'); // a key
    expect(red.redactText('{"n": 378282246310005}')).toBe('{"n":"[REDACTED:payment_card]"}'); // a number
    expect(red.redactText('{"a": "[378282246310005]"}')).toBe(
      '{"a":"[\\"[REDACTED:payment_card]\\"]"}', // a string holding JSON
    );
  });
  const red = compileRedaction(cfg(SILENT), { hmacKey: KEY });
  const text = (s: string) => red.redactText(s);

  it('a token right after an escape (\\n, \\t, \\b) is caught, as JSON.parse would read it', () => {
    for (const esc of ['\n', '\t', '\r', '\f', '\b']) {
      const doc = JSON.stringify({ content: `hello${esc}sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234` });
      expect(JSON.parse(text(doc))).toEqual({ content: `hello${esc}[REDACTED:openai_api_key]` });
    }
    expect(JSON.parse(text('{"m":"a\\/b bob\\u0040example.com"}'))).toEqual({
      m: 'a/b [REDACTED:email]',
    });
  });

  it('key rules act on keys inside JSON whatever the value, with nothing else detected', () => {
    const doc = JSON.stringify({
      tool: 'login',
      args: { xsrf_token: 'abc123', password: { v: 'hunter2hunter2' }, api_key: true, n: 1 },
    });
    expect(JSON.parse(text(doc))).toEqual({
      tool: 'login',
      args: {
        xsrf_token: '[REDACTED:sensitive_key]',
        password: '[REDACTED:sensitive_key]',
        api_key: '[REDACTED:sensitive_key]',
        n: 1,
      },
    });
    // credential key names without any key rule (the secret_assignment detector's own)
    const bare = compileRedaction(cfg({ ...SILENT, blockedKeys: [] }), { hmacKey: KEY });
    expect(JSON.parse(bare.redactText('{"a":{"clientSecret":{"v":"x"},"n":1}}'))).toEqual({
      a: { clientSecret: '[REDACTED:secret_assignment]', n: 1 },
    });
    // exact blocked keys too, and the tenant's own key patterns
    const c = cfg({
      ...SILENT,
      blockedKeys: [
        { keys: ['ssn'], action: 'mask' },
        { name: 'internal', patterns: ['^x-internal-'], action: 'drop' },
      ],
    });
    const out = compileRedaction(c, { hmacKey: KEY }).redactText(
      JSON.stringify({ a: { ssn: 12, 'x-internal-id': 'q', keep: 'k' } }),
    );
    // (free text: drop acts as mask)
    expect(JSON.parse(out)).toEqual({
      a: { ssn: '[REDACTED:blocked_key]', 'x-internal-id': '[REDACTED:internal]', keep: 'k' },
    });
  });

  it('a secret used as a JSON object key is redacted in the key; order and values kept', () => {
    const doc = JSON.stringify({
      first: 1,
      'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234': 'v',
      'bob@example.com': 'w',
      'ann@example.com': 'x',
      last: 2,
    });
    const out = text(doc);
    expect(out).toBe(
      '{"first":1,"[REDACTED:openai_api_key]":"v","[REDACTED:email]":"w","[REDACTED:email]#2":"x","last":2}',
    );
    expect(text(out)).toBe(out);
    // counted like any detection, and a drop action on a key masks it (the key stays)
    const c = cfg({ summary: 'silent', detectors: { action: 'drop' } });
    const span = makeSpan([str('args', JSON.stringify({ 'bob@example.com': 1, __proto__: 2 }))]);
    const r = compileRedaction(c, { hmacKey: KEY }).redactTraces(traces([span]));
    expect(r.counts.email).toEqual({ mask: 1 });
    expect(JSON.parse(attr(span.attributes, 'args')!.stringValue!)).toEqual({
      '[REDACTED:email]': 1,
      __proto__: 2,
    });
  });

  // No timing assert: a quadratic renaming of colliding keys takes minutes here; Jest's timeout fails it.
  it('many secret keys redacted to the same token stay apart, in linear time', () => {
    const doc = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`u${i}@x.io`, i]));
    const out = JSON.parse(text(JSON.stringify(doc)));
    const keys = Object.keys(out);
    expect(keys).toHaveLength(40_000);
    expect(keys.slice(0, 3)).toEqual([
      '[REDACTED:email]',
      '[REDACTED:email]#2',
      '[REDACTED:email]#3',
    ]);
    expect(out['[REDACTED:email]#40000']).toBe(39_999);
  });

  it('clean JSON nested deeper than maxDepth is still masked there, JSON in strings too', () => {
    const c = cfg({ ...SILENT, scan: { maxDepth: 3 } });
    const red3 = compileRedaction(c, { hmacKey: KEY });
    expect(JSON.parse(red3.redactText('{"a":{"b":{"c":"clean"}}}'))).toEqual({
      a: { b: '[REDACTED:max_depth]' },
    });
    // a string holding JSON is one level deeper than the string (as the reference engine says)
    const ref3 = compileRedaction(c, { hmacKey: KEY, referenceScan: true });
    for (const doc of ['["[1]"]', '[" {}"]']) {
      expect(red3.redactText(doc)).toContain('max_depth');
      expect(red3.redactText(doc)).toBe(ref3.redactText(doc));
    }
  });

  it('a card written as a JSON number with an exponent or a fraction is caught', () => {
    expect(JSON.parse(text('{"n":4.111111111111111e15}'))).toEqual({
      n: '[REDACTED:payment_card]',
    });
    expect(JSON.parse(text('{"n":4111111111111111.0}'))).toEqual({ n: '[REDACTED:payment_card]' });
  });

  it('clean agent prompts are not parsed at all (the fast path is taken)', () => {
    const fast = compileRedaction(DEFAULT_REDACTION_CONFIG, { hmacKey: KEY });
    const data = agentRuns({ runs: 5, secretRate: 0, seed: 4 });
    const parse = jest.spyOn(JSON, 'parse');
    try {
      fast.redactTraces(data);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  // The oracle: the reference engine parses every JSON-looking string and walks it.
  type Node =
    | { t: 'num'; raw: string }
    | { t: 'str'; v: string }
    | { t: 'lit'; v: 'true' | 'false' | 'null' }
    | { t: 'arr'; items: Node[] }
    | { t: 'obj'; entries: [string, Node][] };
  const secrets = [
    'bob@example.com',
    '4111 1111 1111 1111',
    '+1 415 555 2671',
    'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
    'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    'password=hunter22!',
    'Bearer abcdef1234567890xyz',
    'Authorization: Basic dXNlcjpwYXNzd29yZA==',
    '10.0.0.1',
    'fe80::1',
    'postgres://u:pw@db',
    'DE89 3704 0044 0532 0130 00',
    '123-45-6789',
  ];
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^[a-z]{1,8}$/) },
    { weight: 3, arbitrary: fc.constantFrom(' ', ', ', ': ', '=', '"', '\n', '\t', '\\', '/') },
    { weight: 2, arbitrary: fc.constantFrom(...secrets) },
    { weight: 1, arbitrary: fc.constantFrom('Step 3:', '2024-05-01', 'v1.2.3', 'é', '💳', '@') },
    // JSON inside a string (parsed one level deeper)
    { weight: 1, arbitrary: fc.constantFrom('[1]', ' [[2],[]]', '{}', '[true,[null]]') },
  );
  const leafText = fc.array(piece, { maxLength: 6 }).map((p) => p.join(''));
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('role', 'content', 'parts', 'max_tokens', 'id', 'n') },
    {
      weight: 2,
      arbitrary: fc.constantFrom('password', 'api_key', 'xsrf_token', 'Authorization', 'ssn'),
    },
    { weight: 2, arbitrary: leafText },
  );
  const num = fc.constantFrom(
    '1',
    '-7',
    '0.5',
    '1234567',
    '4111111111111111',
    '4.111111111111111e15',
    '4111111111111111.0',
    '2.5e15',
    '1e21',
    '91111111111111111111111',
    '415555267',
  );
  const { node } = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ t: fc.constant('str' as const), v: leafText }),
      fc.record({ t: fc.constant('num' as const), raw: num }),
      fc.record({ t: fc.constant('lit' as const), v: fc.constantFrom('true', 'false', 'null') }),
      fc.record({ t: fc.constant('arr' as const), items: fc.array(tie('node'), { maxLength: 4 }) }),
      fc.record({
        t: fc.constant('obj' as const),
        // unique keys: with a repeated key JSON.parse keeps the last value only, and the
        // reference never sees the others (the raw-text path redacts and counts them all; see
        // 'a repeated JSON key' below)
        entries: fc.uniqueArray(fc.tuple(key, tie('node')), {
          maxLength: 4,
          selector: ([k]) => k,
        }),
      }),
    ),
  }));
  /** JSON text of a node; `esc` re-spells some characters as (valid) escapes. */
  function serialize(n: Node, esc: number, ws: string): string {
    const q = (s: string) => {
      let out = JSON.stringify(s);
      if (esc & 1) out = out.replace(/@/g, '\\u0040');
      if (esc & 2) out = out.replace(/\//g, '\\/');
      if (esc & 4) out = out.replace(/s/g, '\\u0073');
      return out;
    };
    switch (n.t) {
      case 'num':
        return n.raw;
      case 'lit':
        return n.v;
      case 'str':
        return q(n.v);
      case 'arr':
        return `[${ws}${n.items.map((i) => serialize(i, esc, ws)).join(`,${ws}`)}]`;
      case 'obj':
        return `{${n.entries.map(([k, v]) => `${q(k)}${ws}:${ws}${serialize(v, esc, ws)}`).join(',')}}`;
    }
  }
  const doc = fc
    .tuple(
      node,
      fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 7 })), // half without escapes
      fc.constantFrom('', ' ', '\n  '),
    )
    .map(([n, esc, ws]) =>
      serialize(n.t === 'arr' || n.t === 'obj' ? n : { t: 'arr', items: [n] }, esc, ws),
    );

  it.each([
    ['the default policy', DEFAULT_REDACTION_CONFIG],
    [
      'hash, partial, drop and restrict actions, a shallow maxDepth, debug summaries',
      cfg({
        summary: 'debug',
        scan: { maxDepth: 4 },
        detectors: {
          overrides: { email: 'hash', phone: 'partial', ipv4: 'drop', jwt: 'restrict' },
        },
      }),
    ],
    ['a maxDepth of 3', cfg({ scan: { maxDepth: 3 } })],
    [
      'tenant patterns (one anchored) and allowed values',
      cfg({
        customPatterns: [
          { name: 'word', pattern: 'hunter[0-9]+' },
          { name: 'whole', pattern: '^[a-z]{3}$' },
        ],
        allowedValues: ['.+@example\\.com'],
      }),
    ],
  ])(
    'skipping the parse of JSON never changes what it says: %s (fast-check vs reference)',
    (_label, config) => {
      const fast = compileRedaction(config, { hmacKey: KEY });
      const ref = compileRedaction(config, { hmacKey: KEY, referenceScan: true });
      fc.assert(
        fc.property(doc, (json) => {
          // the reference re-serializes every JSON text it redacts; the fast path redacts the
          // raw text where it may (spliceable), keeping its formatting: same JSON, same strings
          expect(canonJson(fast.redactText(json))).toBe(canonJson(ref.redactText(json)));
          const mk = () =>
            traces([makeSpan([str('gen_ai.input.messages', json), str('tool.args', json)])]);
          const a = mk();
          const b = mk();
          expect(fast.redactTraces(a)).toEqual(ref.redactTraces(b));
          expect(showCanon(a)).toBe(showCanon(b));
          // still JSON (unless dropped whole)
          const out = attr(a.resourceSpans[0].scopeSpans[0].spans[0].attributes, 'tool.args');
          if (out?.stringValue !== undefined)
            expect(() => JSON.parse(out.stringValue!)).not.toThrow();
        }),
        { numRuns: 400 },
      );
    },
  );
});

describe('what the engine remembers between strings never hides a detection (issue #4)', () => {
  it('a key whose last value was clean still has a new value scanned', () => {
    const red = compileRedaction(cfg(SILENT), { hmacKey: KEY });
    const dirty = 'mail bob@example.com';
    const values = ['order 1234', dirty, dirty, 'order 1234', 'order 1234', dirty];
    const out = values.map((v) => {
      const span = makeSpan([str('note', v)]);
      red.redactTraces(traces([span]));
      return attr(span.attributes, 'note')?.stringValue;
    });
    const masked = 'mail [REDACTED:email]';
    expect(out).toEqual(['order 1234', masked, masked, 'order 1234', 'order 1234', masked]);
  });

  it('a JSON value is never remembered as clean, even when its last string was', () => {
    const red = compileRedaction(cfg(SILENT), { hmacKey: KEY });
    const doc = JSON.stringify({ a: 'bob@example.com', b: 'fine text' });
    for (let i = 0; i < 3; i++) {
      const span = makeSpan([str('args', doc)]);
      red.redactTraces(traces([span]));
      expect(JSON.parse(attr(span.attributes, 'args')!.stringValue!)).toEqual({
        a: '[REDACTED:email]',
        b: 'fine text',
      });
    }
  });

  it('a JSON key a key rule acts on is told apart from an inert one of the same shape', () => {
    // `sun` and `ssn`: same length, first and last character (one slot of the table of inert
    // JSON keys); nothing but the key rule finds anything in `{"ssn":"abc"}`
    const c = cfg({ ...SILENT, blockedKeys: [{ keys: ['ssn'], action: 'mask' }] });
    const red = compileRedaction(c, { hmacKey: KEY });
    expect(red.redactText('{"sun":"abc"}')).toBe('{"sun":"abc"}');
    expect(red.redactText('{"ssn":"abc"}')).toBe('{"ssn":"[REDACTED:blocked_key]"}');
    expect(red.redactText('{"sun":"abc"}')).toBe('{"sun":"abc"}');
  });
});

describe('summary attributes are written once per item (issue #4)', () => {
  it('a log whose body and attributes both have detections gets one detections map', () => {
    const red = compileRedaction(cfg({}), { hmacKey: KEY });
    const log = makeLog({ stringValue: 'login by a@b.io' }, [str('client', 'from 10.0.0.7')]);
    red.redactLogs(logs([log]));
    const det = log.attributes.filter((a) => a.key === SUMMARY_ATTRIBUTES.detections);
    expect(det).toHaveLength(1);
    const counts = Object.fromEntries(
      det[0].value.kvlistValue!.values.map((e) => [e.key, Number(e.value.intValue)]),
    );
    expect(counts).toEqual({ 'email.mask': 1, 'ipv4.mask': 1 });
  });
});

describe('tenant patterns run on the run of their characters around their literal (issue #4)', () => {
  const piece = fc.constantFrom(
    '[a-zA-Z0-9._%+-]+',
    '[a-z]+',
    '[a-z]{2,}',
    '[0-9]{3,6}',
    '\\d+',
    '\\w+',
    '\\.',
    '(?:ab|cd)',
    '(x|yz)?',
    '.{0,3}',
    '[^ ]+',
    '[^ "]*',
    'é+',
    '\\s?',
    'a*?',
  );
  const literal = fc.constantFrom('@', 'TCK-', 'sk-', 'é');
  const pattern = fc
    .tuple(fc.array(piece, { maxLength: 3 }), literal, fc.array(piece, { maxLength: 3 }))
    .map(([before, lit, after]) => before.join('') + lit + after.join(''));
  const text = fc
    .array(
      fc.oneof(
        fc.constantFrom(...'ab cd@.-_"x9é\n\t'.split('')),
        fc.constantFrom('TCK-123456', 'sk-AbCd1234', 'bob@example.com', '😀', 'yz'),
      ),
      { maxLength: 40 },
    )
    .map((p) => p.join(''));

  it('finds what a scan of the whole string finds (fast-check vs reference)', () => {
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 4 }), (p, texts) => {
        const c = cfg({
          ...SILENT,
          detectors: { enabled: [] },
          customPatterns: [{ name: 't', pattern: p }],
        });
        const fast = compileRedaction(c, { hmacKey: KEY });
        const ref = compileRedaction(c, { hmacKey: KEY, referenceScan: true });
        for (const s of texts) expect(fast.redactText(s)).toBe(ref.redactText(s));
      }),
      { numRuns: 1500 },
    );
  });

  it('an email pattern on a long prompt finds the one address in it', () => {
    const c = cfg({
      ...SILENT,
      detectors: { enabled: [] },
      customPatterns: [
        { name: 'mail', pattern: '[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}' },
      ],
    });
    const red = compileRedaction(c, { hmacKey: KEY });
    const prose = 'the agent plans tool calls and summarises results '.repeat(40);
    const out = red.redactText(`${prose}write to jane.doe@example.com today ${prose}`);
    expect(out).toBe(`${prose}write to [REDACTED:mail] today ${prose}`);
  });
});
