import { sortedJson, structuredDiff, unifiedDiff } from './policy-diff';

describe('structuredDiff', () => {
  it('names each changed leaf with the policy path notation', () => {
    const before = {
      version: 1,
      sampling: {
        tail: { decision_wait: '10s', policies: [{ name: 'errors' }, { name: 'slow' }] },
      },
      routes: [{ sink: 'a' }],
    };
    const after = {
      version: 1,
      description: 'new',
      sampling: { tail: { decision_wait: '30s', policies: [{ name: 'errors' }] } },
      routes: [{ sink: 'a' }],
    };
    expect(structuredDiff(before, after)).toEqual([
      { path: 'description', change: 'added', after: '"new"' },
      {
        path: 'sampling.tail.decision_wait',
        change: 'changed',
        before: '"10s"',
        after: '"30s"',
      },
      { path: 'sampling.tail.policies[1]', change: 'removed', before: '{"name":"slow"}' },
    ]);
  });

  it('finds nothing between documents that differ only in key order', () => {
    expect(structuredDiff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });
});

describe('unifiedDiff', () => {
  it('shows changed lines with context and hunk headers', () => {
    const a = sortedJson({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 });
    const b = sortedJson({ a: 1, b: 2, c: 3, d: 40, e: 5, f: 6, g: 7, h: 8 });
    const text = unifiedDiff(a, b, 'v1', 'v2');
    expect(text.split('\n').slice(0, 3)).toEqual(['--- v1', '+++ v2', '@@ -2,7 +2,7 @@']);
    expect(text).toContain('\n-  "d": 4,\n+  "d": 40,\n');
    expect(text).not.toContain('"h": 8');
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('x\ny', 'x\ny', 'a', 'b')).toBe('');
  });
});
