import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_REDACTION_CONFIG } from '../redaction';
import { parsePolicy, pathSegments, serializePolicy, validatePolicy } from './policy';
import { DEFAULT_POLICY } from './defaults';

// invalid-syntax.*.txt: kept out of prettier's reach (it would repair or reject them).
const dir = join(__dirname, '../../testdata/policies');
const read = (name: string) => readFileSync(join(dir, name), 'utf8');

describe('parsePolicy with the example documents', () => {
  it('accepts agent-platform.yaml and normalizes it', () => {
    const r = parsePolicy(read('agent-platform.yaml'), 'yaml');
    expect(r.problems).toEqual([]);
    const p = r.policy!;
    expect(p.version).toBe(1);
    expect(p.attributes.map((a) => a.name)).toEqual(['normalize', 'tenant-tag']);
    expect(p.sampling.tail?.policies.map((x) => x.type)).toEqual([
      'status_code',
      'latency',
      'span_count',
      'and',
      'drop',
      'probabilistic',
    ]);
    expect(p.retention.rules[0]).toEqual({
      name: 'prompts',
      class: 'raw_prompts',
      match: { attributes: [{ key: 'gen_ai.prompt' }] },
    });
    expect(p.routes.map((r) => r.sink)).toEqual(['store', 'honeycomb', 'oncall']);
    // The redaction section kept the tenant pattern and took the defaults for the rest.
    expect(p.redaction.customPatterns.map((c) => c.name)).toEqual(['ticket_id']);
    expect(p.redaction.detectors).toEqual(DEFAULT_REDACTION_CONFIG.detectors);
  });

  it('accepts minimal.json and fills every absent section with the platform default', () => {
    const r = parsePolicy(read('minimal.json'), 'json');
    expect(r.problems).toEqual([]);
    expect(r.policy).toEqual({
      version: 1,
      attributes: [],
      redaction: DEFAULT_POLICY.redaction,
      sampling: { head: { sampling_percentage: 25, hash_seed: 42 } },
      retention: DEFAULT_POLICY.retention,
      routes: [{ sink: 'tempo' }],
    });
  });

  it.each([
    ['agent-platform.yaml', 'yaml'],
    ['minimal.json', 'json'],
  ] as const)('round-trips %s through JSON and YAML', (file, format) => {
    const first = parsePolicy(read(file), format).policy!;
    for (const out of ['json', 'yaml'] as const) {
      const again = parsePolicy(serializePolicy(first, out), out);
      expect(again.problems).toEqual([]);
      expect(again.policy).toEqual(first);
    }
  });

  it.each([
    ['invalid-many.yaml', 'yaml'],
    ['invalid-version.json', 'json'],
  ] as const)('reports every problem of %s, each with path and line', (file, format) => {
    const expected = JSON.parse(read(file.replace(/\.(yaml|json)$/, '.problems.json'))) as {
      path: string;
      line: number;
    }[];
    const r = parsePolicy(read(file), format);
    expect(r.policy).toBeUndefined();
    expect(r.problems.map((p) => ({ path: p.path, line: p.line }))).toEqual(expected);
    for (const p of r.problems) expect(p.message.length).toBeGreaterThan(5);
  });

  it('explains refused constructs in the messages', () => {
    const r = parsePolicy(read('invalid-many.yaml'), 'yaml');
    const msg = (path: string) => r.problems.find((p) => p.path === path)?.message;
    expect(msg('sampling.tail.policies[2].type')).toMatch(/not supported/);
    expect(msg('attributes[0].actions[2].pattern')).toMatch(/RE2/);
    expect(msg('colour')).toMatch(/unknown field/);
    expect(msg('retention.default_class')).toMatch(/names no class "forever"/);
  });

  it('reports YAML and JSON syntax errors with their line', () => {
    const y = parsePolicy(read('invalid-syntax.yaml.txt'), 'yaml');
    expect(y.policy).toBeUndefined();
    expect(y.problems[0].message).toMatch(/^invalid YAML/);
    expect(y.problems[0].line).toBeGreaterThanOrEqual(4);
    const j = parsePolicy(read('invalid-syntax.json.txt'), 'json');
    expect(j.problems).toHaveLength(1);
    expect(j.problems[0]).toMatchObject({ path: '', line: 4 });
    expect(j.problems[0].message).toMatch(/^invalid JSON/);
  });

  it('refuses non-map documents and duplicate YAML keys', () => {
    expect(validatePolicy([1, 2]).problems[0]).toMatchObject({ path: '' });
    const dup = parsePolicy('version: 1\nversion: 1\n', 'yaml');
    expect(dup.problems[0].message).toMatch(/invalid YAML/);
    expect(dup.problems[0].line).toBe(2);
  });

  it('passes the redaction section to the redaction validator and keeps its paths', () => {
    const r = validatePolicy({
      version: 1,
      redaction: {
        customPatterns: [{ name: 'x', pattern: '(?<=a)b', action: { action: 'mask' } }],
      },
    });
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems.every((p) => p.path.startsWith('redaction.customPatterns[0]'))).toBe(true);
  });
});

describe('pathSegments', () => {
  it('splits dotted paths with list indexes', () => {
    expect(pathSegments('sampling.tail.policies[2].and.and_sub_policy[0].name')).toEqual([
      'sampling',
      'tail',
      'policies',
      2,
      'and',
      'and_sub_policy',
      0,
      'name',
    ]);
    expect(pathSegments('routes[1]')).toEqual(['routes', 1]);
    expect(pathSegments('')).toEqual([]);
  });
});
