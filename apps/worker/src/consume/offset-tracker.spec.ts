import fc from 'fast-check';
import { OffsetTracker } from './offset-tracker';

describe('OffsetTracker', () => {
  it('commits past records that are done, and never past a pending one', () => {
    const t = new OffsetTracker();
    expect(t.committable()).toBeUndefined();
    t.add('10', 0);
    t.add('11', 2);
    t.add('12', 0);
    expect(t.committable()).toBe('11');
    t.release('11');
    expect(t.committable()).toBe('11');
    t.release('11');
    expect(t.committable()).toBe('13');
    t.committed('13');
    expect(t.committable()).toBeUndefined();
    t.add('14', 1);
    expect(t.committable()).toBe('14');
  });

  it('holds the commit at the oldest pending record even when later ones finish first', () => {
    const t = new OffsetTracker();
    t.add(1n, 1);
    t.add(2n, 1);
    t.add(3n, 1);
    t.release(3n);
    t.release(2n);
    expect(t.committable()).toBe('1');
    t.release(1n);
    expect(t.committable()).toBe('4');
  });

  it('tells which offsets it has already seen', () => {
    const t = new OffsetTracker();
    expect(t.seen(0n)).toBe(false);
    t.add(5n, 1);
    t.add('7', 0);
    expect(['3', '5', '6', '7'].map((o) => t.seen(o))).toEqual([true, true, true, true]);
    expect(t.seen(8n)).toBe(false);
  });

  it('refuses out-of-order records and over-release', () => {
    const t = new OffsetTracker();
    t.add(5n, 1);
    expect(() => t.add(5n, 1)).toThrow(/not after/);
    expect(() => t.release(5n, 2)).toThrow(/releasing 2 of 1/);
    expect(() => t.release(6n)).toThrow(/nothing pending/);
  });

  it('property: the committable offset is exactly the first offset not fully released', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (units, picks) => {
          const t = new OffsetTracker();
          const left = units.slice();
          units.forEach((u, i) => t.add(BigInt(i), u));
          for (const p of picks) {
            const open = left.map((u, i) => (u > 0 ? i : -1)).filter((i) => i >= 0);
            if (open.length === 0) break;
            const i = open[p % open.length];
            t.release(BigInt(i));
            left[i]--;
          }
          const firstPending = left.findIndex((u) => u > 0);
          const expected = firstPending === -1 ? units.length : firstPending;
          return t.committable() === String(expected);
        },
      ),
    );
  });
});
