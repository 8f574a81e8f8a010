import fc from 'fast-check';
import { RE2JS } from 're2js';
import { anchoredPrefix, fastRegExp, patternCharset } from './fast-regexp';
import { MemoizedRe2 } from './re2';

/** Match and submatches as plain values, or null. */
function groups(m: RegExpExecArray | string[] | null, n: number): (string | null)[] | null {
  if (!m) return null;
  return Array.from({ length: n + 1 }, (_, g) => m[g] ?? null);
}

function both(pattern: string, input: string) {
  const re2 = RE2JS.compile(pattern);
  const fast = fastRegExp(pattern);
  if (!fast) throw new Error(`not accepted: ${pattern}`);
  const n = re2.groupCount();
  return {
    re2: groups(re2.exec(input) as string[] | null, n),
    fast: groups(fast.exec(input), n),
  };
}

describe('fastRegExp: a V8 RegExp where it provably matches as RE2 does, in linear time', () => {
  it('takes the usual extract and key patterns, and gives the same submatches as re2js', () => {
    const url = '^https?://(?P<http_host>[^/]+)(?P<http_path>/[^?]*)';
    for (const input of [
      'https://api.acme.internal/v2/search_kb?lang=en',
      'http://h/',
      'ftp://h/x',
      'https://host-only',
      'https://h😀é/p😀?q',
    ]) {
      const r = both(url, input);
      expect(r.fast).toEqual(r.re2);
    }
    expect(fastRegExp(url)?.exec('https://api.acme.internal/v2/x?y')?.groups).toEqual({
      http_host: 'api.acme.internal',
      http_path: '/v2/x',
    });
    for (const p of ['^internal\\.', '^[a-z_]+\\.secret$', '^(?:a|b)'.replace('|b', ''), '^\\d+$'])
      expect(fastRegExp(p)).not.toBeNull();
  });

  it('refuses what it cannot prove: unanchored, nested or overlapping repetition, RE2-only syntax', () => {
    for (const p of [
      'https?://([^/]+)', // unanchored: every start position is tried
      '^(a+)+$',
      '^a*a*b',
      '^\\w+\\d',
      '^[a-z]*[a-c]',
      '^a?a',
      '^(ab)*c',
      '^a|b',
      '^a{2,5}',
      '^a*?b',
      '^(?i)abc',
      '^\\bword',
      '^[[:alpha:]]+',
      '^\\pL+',
      '^é',
      '^.*x',
      '^(?P<a>x)(?P<a>y)',
    ])
      expect(fastRegExp(p)).toBeNull();
  });

  it('matches exactly as re2js on random patterns of its subset and random inputs', () => {
    const atom = fc.constantFrom(
      'a',
      'b',
      '/',
      ':',
      '\\.',
      '\\?',
      '.',
      '\\d',
      '\\D',
      '\\w',
      '\\W',
      '\\s',
      '\\S',
      '[a-c]',
      '[^/]',
      '[^?]',
      '[^a\\d]',
      '[\\s/]',
      '[-b]',
      '[.a-]',
    );
    const quant = fc.constantFrom('', '', '*', '+', '?');
    const piece = fc.tuple(atom, quant).map(([a, q]) => a + q);
    const seq = fc.array(piece, { maxLength: 4 }).map((ps) => ps.join(''));
    const item = fc.oneof(
      { weight: 3, arbitrary: piece },
      { weight: 1, arbitrary: seq.map((s) => `(${s})`) },
      { weight: 1, arbitrary: seq.map((s) => `(?:${s})`) },
    );
    const pattern = fc
      .tuple(fc.array(item, { minLength: 1, maxLength: 5 }), fc.boolean())
      .map(([items, end]) => `^${items.join('')}${end ? '$' : ''}`);
    const input = fc
      .array(fc.constantFrom(...'ab/:.?1 \n\t\r\u000b\u00a0é😀c_-'.split(''), 'ab', '😀'), {
        maxLength: 16,
      })
      .map((cs) => cs.join(''));
    let accepted = 0;
    fc.assert(
      fc.property(pattern, fc.array(input, { minLength: 1, maxLength: 5 }), (p, inputs) => {
        if (!fastRegExp(p)) return;
        accepted++;
        // MemoizedRe2 tests the literal start with startsWith first (anchoredPrefix)
        const key = new MemoizedRe2(RE2JS.compile(p));
        for (const s of inputs) {
          const r = both(p, s);
          expect(r.fast).toEqual(r.re2);
          expect({ p, s, test: key.test(s) }).toEqual({ p, s, test: r.re2 !== null });
        }
      }),
      { numRuns: 3000 },
    );
    // the generator must exercise the accepted subset, not only refusals
    expect(accepted).toBeGreaterThan(300);
  });
});

describe('anchoredPrefix: the literal start of an anchored pattern', () => {
  it('reads the leading unrepeated characters, through unrepeated groups', () => {
    expect(anchoredPrefix('^internal\\.')).toEqual({ prefix: 'internal.', whole: true });
    expect(anchoredPrefix('^https?://(?P<host>[^/]+)')).toEqual({ prefix: 'http', whole: false });
    expect(anchoredPrefix('^(?:ab)c\\d')).toEqual({ prefix: 'abc', whole: false });
    expect(anchoredPrefix('^ab$')).toEqual({ prefix: 'ab', whole: false });
    expect(anchoredPrefix('^a*b')).toEqual({ prefix: '', whole: false });
    expect(anchoredPrefix('internal\\.')).toBeNull();
  });
});

describe('patternCharset: the characters an RE2 pattern can match', () => {
  it('reads classes, escapes, groups, alternation and repetition', () => {
    const set = patternCharset('[a-c0-9._%+-]+@(?:x|\\d){2,}\\.[^\\s]?');
    expect(set).not.toBeNull();
    const has = (ch: string) => set!.ascii[ch.charCodeAt(0)] === 1;
    for (const ch of 'abc09._%+-@x.!"') expect(has(ch)).toBe(true); // [^\s] holds '!' and '"'
    for (const ch of ' \t\n') expect(has(ch)).toBe(false);
    expect(set!.nonAscii).toBe(true); // [^\s]
    expect(patternCharset('TCK-[0-9]{6}')!.nonAscii).toBe(false);
    expect(patternCharset('TCK-[0-9]{6}')!.ascii['a'.charCodeAt(0)]).toBe(0);
  });

  it('refuses assertions, flags and syntax it does not read', () => {
    for (const p of [
      '^abc',
      'abc$',
      '\\bword',
      'a\\Bb',
      '\\Aabc',
      'abc\\z',
      '(?i)abc',
      '[[:alpha:]]',
      '\\pL',
      'a{',
      '\\x41',
    ])
      expect(patternCharset(p)).toBeNull();
  });
});
