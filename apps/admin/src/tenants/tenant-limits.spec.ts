import { applyLimitPatch } from './tenant-limits';

describe('tenant limit overrides', () => {
  it('validates with the settings’ own parsers and reports every problem with its path', () => {
    const r = applyLimitPatch({}, { spansPerSecond: 0, burstSeconds: 99999, maxAttributes: 10 });
    expect(r.problems).toEqual([
      'limits.spansPerSecond: expected 1..100000000, got 0',
      'limits.burstSeconds: expected 1..3600, got 99999',
    ]);
  });

  it('sets, keeps and removes overrides', () => {
    const r = applyLimitPatch(
      { spansPerSecond: 100, maxAttributes: 7, bogus: 1 },
      { spansPerSecond: null, burstSeconds: 10 },
    );
    expect(r).toEqual({ limits: { maxAttributes: 7, burstSeconds: 10 }, problems: [] });
    expect(applyLimitPatch({}, { nope: 1 } as never).problems[0]).toMatch(
      /^limits\.nope: unknown limit/,
    );
  });
});
