import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  it('refuses ottl_condition, bytes_limiting and backtracking regexes with clear messages', () => {
    const r = fromCollectorConfig(read('otelcol-unsupported.yaml'));
    expect(r.policy).toBeUndefined();
    expect(r.problems.map((p) => p.path)).toEqual([
      'processors.tail_sampling.policies[0].type',
      'processors.tail_sampling.policies[1].type',
      'processors.attributes/bad.actions[0].pattern',
    ]);
    expect(r.problems[0].message).toMatch(/"ottl_condition" is not supported/);
    expect(r.problems[2].message).toMatch(/RE2/);
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
