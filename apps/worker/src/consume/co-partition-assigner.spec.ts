import fc from 'fast-check';
import { coPartitionAssignment } from './co-partition-assigner';

describe('coPartitionAssignment', () => {
  it('gives partition N of every topic to the same member', () => {
    const plan = coPartitionAssignment(['b', 'a'], {
      'otlp.traces': [0, 1, 2, 3],
      'otlp.logs': [0, 1, 2, 3],
    });
    expect(plan).toEqual({
      a: { 'otlp.traces': [0, 2], 'otlp.logs': [0, 2] },
      b: { 'otlp.traces': [1, 3], 'otlp.logs': [1, 3] },
    });
  });

  it('property: every partition is assigned exactly once, co-located across topics', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 24 }),
        (members, n) => {
          const parts = Array.from({ length: n }, (_, i) => i);
          const plan = coPartitionAssignment(members, { t1: parts, t2: parts, t3: parts });
          for (const topic of ['t1', 't2', 't3']) {
            const all = Object.values(plan).flatMap((a) => a[topic] ?? []);
            expect(all.sort((a, b) => a - b)).toEqual(parts);
          }
          for (const a of Object.values(plan)) {
            expect(a.t1 ?? []).toEqual(a.t2 ?? []);
            expect(a.t2 ?? []).toEqual(a.t3 ?? []);
          }
        },
      ),
    );
  });
});
