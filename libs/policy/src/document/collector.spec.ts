import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyValue } from '@custodian/otlp';
import { allSpans, attr, batch, span, traceId } from '../../testdata/fixtures';
import { fromCollectorConfig } from './collector';
import { compilePolicy } from './compile';
import { parsePolicy, serializePolicy } from './policy';

const read = (name: string) =>
  readFileSync(join(__dirname, '../../testdata/collector', name), 'utf8');

describe('fromCollectorConfig', () => {
  it('imports attributes, redaction, probabilistic_sampler and tail_sampling from a Collector config', () => {
    const r = fromCollectorConfig(read('otelcol-agents.yaml'));
    expect(r.problems).toEqual([]);
    const p = r.policy!;
    expect(p.attributes).toEqual([
      {
        name: 'attributes/genai',
        include: { match_type: 'strict', services: ['agent'] },
        actions: [
          { key: 'llm.prompt', action: 'delete' },
          { key: 'user.id', action: 'hash' },
          { key: 'env', value: 'prod', action: 'upsert' },
        ],
      },
    ]);
    expect(p.sampling.head).toEqual({ sampling_percentage: 50, hash_seed: 22 });
    expect(p.sampling.tail?.decision_wait).toBe('10s');
    expect(p.sampling.tail?.decision_cache).toEqual({
      sampled_cache_size: 100000,
      non_sampled_cache_size: 100000,
    });
    expect(p.sampling.tail?.policies.map((x) => x.name)).toEqual([
      'errors',
      'slow',
      'rate',
      'composite-policy-1',
    ]);
    expect(p.redaction.customPatterns.length + p.redaction.blockedKeys.length).toBeGreaterThan(0);
    expect(r.warnings.map((w) => w.path)).toContain('processors.batch');
    // The imported document is a valid policy that compiles.
    const again = parsePolicy(serializePolicy(p, 'yaml'), 'yaml');
    expect(again.problems).toEqual([]);
    expect(() => compilePolicy(again.policy!, { hmacKey: new Uint8Array(32) })).not.toThrow();
  });

  it('leaves out ottl_condition and bytes_limiting policies with a warning each, refuses backtracking regexes', () => {
    const r = fromCollectorConfig(read('otelcol-unsupported.yaml'));
    expect(r.policy).toBeUndefined();
    expect(r.problems.map((p) => p.path)).toEqual(['processors.attributes/bad.actions[0].pattern']);
    expect(r.problems[0].message).toMatch(/RE2/);
    const tail = r.warnings.filter((w) => w.path.startsWith('processors.tail_sampling.policies'));
    expect(tail.map((w) => w.path)).toEqual([
      'processors.tail_sampling.policies[0]',
      'processors.tail_sampling.policies[1]',
    ]);
    expect(tail[0].message).toMatch(
      /^policy "ottl" \(ottl_condition\) was not imported: .*no OTTL engine/,
    );
    expect(tail[1].message).toMatch(/^policy "bytes" \(bytes_limiting\) was not imported/);
  });

  it('leaves out a whole policy whose sub-policy is unsupported, never just the leg', () => {
    const r = fromCollectorConfig(`tail_sampling:
  policies:
    - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
    - name: both
      type: and
      and:
        and_sub_policy:
          - { name: svc, type: string_attribute, string_attribute: { key: service.name, values: [a] } }
          - { name: o, type: ottl_condition, ottl_condition: { span: ['true'] } }
`);
    expect(r.problems).toEqual([]);
    expect(r.policy?.sampling.tail?.policies.map((p) => p.name)).toEqual(['errors']);
    expect(r.warnings[0]).toEqual({
      path: 'tail_sampling.policies[1]',
      message: expect.stringMatching(
        /^policy "both" \(ottl_condition at and\.and_sub_policy\[1\]\) was not imported/,
      ),
    });
  });

  it('refuses a tail_sampling block whose every policy is unsupported', () => {
    const r = fromCollectorConfig(
      'tail_sampling:\n  policies:\n    - { name: o, type: ottl_condition, ottl_condition: { span: [x] } }\n',
    );
    expect(r.policy).toBeUndefined();
    expect(r.problems).toEqual([
      {
        path: 'tail_sampling.policies',
        message: 'no policy left to import: every policy uses an unsupported type',
      },
    ]);
  });

  it('accepts a bare processors map and warns about a missing decision_cache', () => {
    const r = fromCollectorConfig(
      'tail_sampling:\n  policies:\n    - { name: all, type: always_sample }\n',
    );
    expect(r.problems).toEqual([]);
    expect(r.policy?.sampling.tail?.policies).toEqual([{ name: 'all', type: 'always_sample' }]);
    expect(r.warnings[0].message).toMatch(/decision_cache/);
  });

  it('reports YAML errors and configs with nothing to import', () => {
    expect(fromCollectorConfig('processors: [').problems[0].message).toMatch(/invalid YAML/);
    expect(fromCollectorConfig('processors:\n  batch: {}\n').problems[0].message).toMatch(
      /found no attributes/,
    );
  });
});

describe('the Collector READMEs’ example configurations', () => {
  const hmacKey = new Uint8Array(32).fill(9);
  const get = (attrs: { key: string; value: AnyValue }[], key: string) =>
    attrs.find((a) => a.key === key)?.value;

  it('attributes processor README: loads, and every action does what the README says', () => {
    const r = fromCollectorConfig(read('attributes-readme.yaml'));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    const p = r.policy!;
    expect(p.attributes).toHaveLength(1);
    expect(p.attributes[0].name).toBe('attributes/example');
    expect(p.attributes[0].actions.map((a) => a.action)).toEqual([
      'delete',
      'upsert',
      'update',
      'insert',
      'delete',
      'hash',
      'convert',
      'insert',
      'upsert',
    ]);
    const compiled = compilePolicy(p, { hmacKey });
    const s = span({
      traceId: traceId(1),
      attributes: [
        attr('db.table', 'users'),
        attr('key_original', 'orig'),
        attr('copy_key', 'old'),
        attr('account_password', 'hunter2'),
        attr('account_email', 'ada@example.com'),
        attr('http.status_code', '503'),
      ],
    });
    const noRegion = span({ traceId: traceId(2), attributes: [attr('cloud.region', 'eu-west-3')] });
    const data = batch([s, noRegion]);
    compiled.attributes.applyToTraces(data, { tenant: 'acme' });
    const a = s.attributes;
    expect(get(a, 'db.table')).toBeUndefined();
    expect(get(a, 'redacted_span')).toEqual({ boolValue: true });
    expect(get(a, 'copy_key')).toEqual({ stringValue: 'orig' });
    expect(get(a, 'account_id')).toEqual({ intValue: 2245n });
    expect(get(a, 'account_password')).toBeUndefined();
    expect(get(a, 'account_email')?.stringValue).toMatch(/^[0-9a-f]{64}$/);
    expect(get(a, 'http.status_code')).toEqual({ intValue: 503n });
    // default_value: no cloud.region → the default; with one → copied.
    expect(get(a, 'region')).toEqual({ stringValue: 'us-east-1' });
    expect(get(noRegion.attributes, 'region')).toEqual({ stringValue: 'eu-west-3' });
    // from_context "metadata.tenant" present → its value; absent → the default.
    expect(get(a, 'tenant_id')).toEqual({ stringValue: 'acme' });
    const other = batch([span({ traceId: traceId(3) })]);
    compiled.attributes.applyToTraces(other);
    expect(get(allSpans(other)[0].attributes, 'tenant_id')).toEqual({
      stringValue: 'default-tenant',
    });
  });

  it('redaction processor README: refused only for url_sanitizer (not supported), loads without it', () => {
    const text = read('redaction-readme.yaml');
    const verbatim = fromCollectorConfig(text);
    expect(verbatim.policy).toBeUndefined();
    expect(verbatim.problems).toEqual([
      {
        path: 'processors.redaction.url_sanitizer',
        message: 'not supported by Custodian; remove it or disable it',
      },
    ]);
    const r = fromCollectorConfig(text.replace(/enabled: true/, 'enabled: false'));
    expect(r.problems).toEqual([]);
    expect(r.warnings.map((w) => w.path)).toContain('processors.redaction.hash_function');
    const compiled = compilePolicy(r.policy!, { hmacKey });
    const s = span({
      traceId: traceId(4),
      attributes: [
        attr('description', 'card 4111111111111111 on file'),
        attr('name', 'ada@mycompany.com'),
        attr('group', 'blue'),
        attr('safe_attribute', '4111111111111111'),
        attr('user.phone', '+1 555 0100'),
      ],
    });
    compiled.prepareTraces(batch([s]));
    expect(get(s.attributes, 'description')?.stringValue).not.toContain('4111111111111111');
    expect(get(s.attributes, 'name')).toEqual({ stringValue: 'ada@mycompany.com' });
    expect(get(s.attributes, 'group')).toEqual({ stringValue: 'blue' });
    expect(get(s.attributes, 'safe_attribute')).toEqual({ stringValue: '4111111111111111' });
    // Not on allowed_keys: removed (the list fails closed).
    expect(get(s.attributes, 'user.phone')).toBeUndefined();
  });
});
