import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  fromCollectorRedactionConfig,
  importCollectorRedactionConfig,
  RedactionConfigError,
} from './collector';
import { compileRedaction, SUMMARY_ATTRIBUTES } from './compile';
import { attr, makeSpan, str, traces } from '../../testdata/redaction/testkit';

const yaml = (name: string): Record<string, unknown> =>
  (
    parse(readFileSync(join(__dirname, '../../testdata/redaction', name), 'utf8')) as {
      processors: Record<string, unknown>;
    }
  ).processors.redaction as Record<string, unknown>;

describe('Collector redaction processor import', () => {
  it('maps the documented example field by field', () => {
    const r = importCollectorRedactionConfig(yaml('collector-redaction.yaml'));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([
      {
        path: 'redaction.hash_function',
        message: expect.stringMatching(/md5 becomes HMAC-SHA256/),
      },
    ]);
    expect(r.config).toMatchObject({
      allowedKeys: ['description', 'group', 'id', 'name', 'notes', 'user.email'],
      ignoredKeys: ['safe_attribute'],
      blockedKeys: [
        { name: 'blocked_key', patterns: ['.*token.*', '.*api_key.*'], action: { action: 'hash' } },
      ],
      customPatterns: [
        {
          name: 'blocked_values.0',
          pattern: '4[0-9]{12}(?:[0-9]{3})?',
          action: { action: 'hash' },
        },
        { name: 'blocked_values.1', pattern: '(5[1-5][0-9]{14})', action: { action: 'hash' } },
      ],
      allowedValues: ['.+@mycompany.com'],
      detectors: { enabled: [] },
      summary: 'debug',
    });
  });

  it('behaves like the Collector: allow-list, ignored, blocked keys, blocked values, summary', () => {
    const config = fromCollectorRedactionConfig(yaml('collector-redaction.yaml'));
    const span = makeSpan([
      str('id', '7'),
      str('birth_date', '1990-01-01'),
      str('safe_attribute', '4111111111111111'),
      str('notes', 'card 4111111111111111 ok'),
      str('user.email', 'ceo@mycompany.com'),
      str('name', 'x'),
    ]);
    compileRedaction(config, { hmacKey: new Uint8Array(32) }).redactTraces(traces([span]));
    const a = (k: string) => attr(span.attributes, k);
    expect(a('birth_date')).toBeUndefined();
    expect(a('safe_attribute')?.stringValue).toBe('4111111111111111');
    expect(a('notes')?.stringValue).toMatch(/^card \[HASH:blocked_values\.0:[0-9a-f]{32}\] ok$/);
    expect(a('user.email')?.stringValue).toBe('ceo@mycompany.com');
    expect(a(SUMMARY_ATTRIBUTES.redactedKeys)?.stringValue).toBe('birth_date');
    expect(a(SUMMARY_ATTRIBUTES.redactedCount)?.intValue).toBe(1n);
    expect(a(SUMMARY_ATTRIBUTES.maskedKeys)?.stringValue).toBe('notes');
    expect(a(SUMMARY_ATTRIBUTES.ignoredCount)?.intValue).toBe(1n);
  });

  it('allow_all_keys: true disables the allow-list; absent summary is silent', () => {
    const config = fromCollectorRedactionConfig({
      allow_all_keys: true,
      blocked_values: ['secret-[0-9]+'],
    });
    expect(config.allowedKeys).toBeUndefined();
    expect(config.summary).toBe('silent');
    const span = makeSpan([str('a', 'x secret-42 y'), str('b', 'fine')]);
    compileRedaction(config, { hmacKey: new Uint8Array(32) }).redactTraces(traces([span]));
    expect(span.attributes).toEqual([
      str('a', 'x [REDACTED:blocked_values.0] y'),
      str('b', 'fine'),
    ]);
  });

  it('an empty config fails closed like the Collector: every attribute is removed', () => {
    const config = fromCollectorRedactionConfig({});
    const span = makeSpan([str('a', '1'), str('b', '2')]);
    compileRedaction(config, { hmacKey: new Uint8Array(32) }).redactTraces(traces([span]));
    expect(span.attributes).toEqual([]);
  });

  it('redact_all_types maps to scanning non-string values', () => {
    expect(
      fromCollectorRedactionConfig({ allow_all_keys: true, redact_all_types: true }).scan
        .nonStringValues,
    ).toBe(true);
  });

  it('reports every problem at once with paths, and the thrown error lists them', () => {
    const r = importCollectorRedactionConfig(yaml('collector-invalid.yaml'));
    expect(r.config).toBeUndefined();
    expect(r.problems.map((p) => p.path).sort()).toEqual(
      [
        'redaction.allow_all_keys',
        'redaction.blocked_values[0]',
        'redaction.blocked_values[1]',
        'redaction.colour',
        'redaction.hash_function',
        'redaction.hmac_key',
        'redaction.summary',
        'redaction.url_sanitizer',
      ].sort(),
    );
    expect(() => fromCollectorRedactionConfig(yaml('collector-invalid.yaml'))).toThrow(
      RedactionConfigError,
    );
    try {
      fromCollectorRedactionConfig(yaml('collector-invalid.yaml'));
    } catch (e) {
      expect((e as RedactionConfigError).problems).toHaveLength(8);
      expect((e as Error).message).toContain('redaction.blocked_values[1]');
    }
  });
});
