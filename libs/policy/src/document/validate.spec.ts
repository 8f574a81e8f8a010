import { parseDurationMs, readDurationMs, readNumber, type PolicyProblem } from './validate';

describe('parseDurationMs (Go durations, as the Collector YAML writes them)', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    ['500us', 0.5],
    ['0', 0],
  ])('%s = %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '10', 's', '10 s', '-1s', '1d'])('refuses %j', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );

  it('reports a bare number with the expected form', () => {
    const problems: PolicyProblem[] = [];
    expect(
      readDurationMs({ decision_wait: 30 }, 'decision_wait', 'sampling.tail', problems),
    ).toBeUndefined();
    expect(problems).toEqual([
      {
        path: 'sampling.tail.decision_wait',
        message: 'expected a duration such as "10s", "1m30s" or "500ms", got number 30',
      },
    ]);
  });
});

describe('readNumber', () => {
  it('checks type, integer and bounds, one problem each', () => {
    const problems: PolicyProblem[] = [];
    readNumber({ a: '1', b: 1.5, c: -1, d: 101 }, 'a', 'x', problems);
    readNumber({ b: 1.5 }, 'b', 'x', problems, { integer: true });
    readNumber({ c: -1 }, 'c', 'x', problems, { min: 0 });
    readNumber({ d: 101 }, 'd', 'x', problems, { max: 100 });
    readNumber({}, 'e', 'x', problems, { required: true });
    expect(problems.map((p) => p.path)).toEqual(['x.a', 'x.b', 'x.c', 'x.d', 'x.e']);
  });
});
