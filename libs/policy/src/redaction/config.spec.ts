import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileRedaction } from './compile';
import {
  DEFAULT_REDACTION_CONFIG,
  GENAI_CONTENT_KEYS,
  re2Problem,
  validateRedactionConfig,
} from './config';
import { BUILTIN_DETECTORS } from './detectors';

const testdata = (name: string): unknown =>
  parse(readFileSync(join(__dirname, '../../testdata/redaction', name), 'utf8'));

describe('validateRedactionConfig', () => {
  it('an absent section is the platform default', () => {
    expect(validateRedactionConfig(undefined)).toEqual({
      config: DEFAULT_REDACTION_CONFIG,
      problems: [],
    });
  });

  it('the default turns every detector on with mask and restricts GenAI content', () => {
    const d = DEFAULT_REDACTION_CONFIG;
    expect(d.detectors).toEqual({ enabled: 'all', action: { action: 'mask' }, overrides: {} });
    expect(d.contentKeys.action).toEqual({ action: 'restrict' });
    expect(d.contentKeys.keys).toEqual(GENAI_CONTENT_KEYS);
    expect(d.allowedKeys).toBeUndefined();
    expect(BUILTIN_DETECTORS.length).toBeGreaterThan(20);
  });

  it('loads the example policy section, filling defaults for fields left out', () => {
    const doc = testdata('policy-redaction.yaml') as { redaction: unknown };
    const { config, problems } = validateRedactionConfig(doc.redaction);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      ignoredKeys: ['service.instance.id'],
      blockedKeys: [
        { name: 'customer_ref', keys: ['customer.ref'], patterns: [], action: { action: 'hash' } },
        {
          name: 'notes',
          keys: [],
          patterns: ['(?i)^notes?$'],
          action: { action: 'truncate', maxLength: 8 },
        },
      ],
      detectors: {
        enabled: 'all',
        overrides: {
          payment_card: { action: 'partial', keepLast: 4 },
          email: { action: 'hash' },
          ipv4: { action: 'restrict' },
        },
      },
      customPatterns: [{ name: 'order_id', pattern: 'ORD-[0-9]{8}', action: { action: 'mask' } }],
      contentKeys: DEFAULT_REDACTION_CONFIG.contentKeys,
      scan: DEFAULT_REDACTION_CONFIG.scan,
      summary: 'debug',
    });
    // and it compiles
    expect(() => compileRedaction(config!, { hmacKey: new Uint8Array(32) })).not.toThrow();
  });

  it('reports every problem at once, each with its path', () => {
    const doc = testdata('policy-invalid.yaml') as { redaction: unknown };
    const { config, problems } = validateRedactionConfig(doc.redaction);
    expect(config).toBeUndefined();
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'redaction.extra',
        'redaction.allowedKeys',
        'redaction.blockedKeys[0].name',
        'redaction.blockedKeys[0]',
        'redaction.blockedKeys[0].action.action',
        'redaction.blockedKeys[1].patterns[0]',
        'redaction.blockedKeys[1].action.keepLast',
        'redaction.blockedKeys[1].action.maxLength',
        'redaction.detectors.enabled[1]',
        'redaction.detectors.overrides.telepathy',
        'redaction.customPatterns[0].pattern',
        'redaction.customPatterns[1].name',
        'redaction.scan.maxDepth',
        'redaction.scan.spanNames',
        'redaction.summary',
      ]),
    );
    expect(problems).toHaveLength(15);
    const lookbehind = problems.find((p) => p.path === 'redaction.blockedKeys[1].patterns[0]');
    expect(lookbehind?.message).toMatch(/backtracking.*RE2/);
  });

  it('uses the path it is given', () => {
    expect(validateRedactionConfig([], 'policy.redaction').problems).toEqual([
      { path: 'policy.redaction', message: 'must be a map' },
    ]);
  });

  it('an action may be a bare name or a map', () => {
    const r = validateRedactionConfig({
      detectors: { action: 'hash', overrides: { email: { action: 'partial', keepLast: 2 } } },
    });
    expect(r.config?.detectors.action).toEqual({ action: 'hash' });
    expect(r.config?.detectors.overrides.email).toEqual({ action: 'partial', keepLast: 2 });
  });

  it('an explicit empty allow-list is kept (fails closed), unlike an absent one', () => {
    expect(validateRedactionConfig({ allowedKeys: [] }).config?.allowedKeys).toEqual([]);
    expect(validateRedactionConfig({}).config?.allowedKeys).toBeUndefined();
  });
});

describe('re2Problem', () => {
  it('accepts RE2 syntax, including Go-style inline flags', () => {
    expect(re2Problem('(?i)secret-[0-9]+')).toBeNull();
  });
  it.each([
    ['(a)\\1', /backtracking/],
    ['foo(?=bar)', /backtracking/],
    ['(?<!x)y', /backtracking/],
    ['[unclosed', /not a valid RE2 pattern.*missing closing \]/],
  ])('refuses %s with a clear message', (pattern, msg) => {
    expect(re2Problem(pattern)).toMatch(msg);
  });
});
