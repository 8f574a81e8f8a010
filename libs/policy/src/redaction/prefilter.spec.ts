import fc from 'fast-check';
import { CandidateFinder } from './prefilter';

const finder = new CandidateFinder();

/** The text at each candidate, up to 12 characters. */
function candidates(s: string): string[] {
  const n = finder.find(s);
  return Array.from(finder.positions.subarray(0, n), (p) => s.slice(p, p + 12));
}

describe('CandidateFinder', () => {
  it('finds nothing in prose, clean prompt JSON and ordinary attribute values (the fast path)', () => {
    for (const s of [
      'The agent planned three steps and called the search tool twice, then answered the user.',
      JSON.stringify([
        { role: 'system', parts: [{ type: 'text', content: 'Today is 2024-05-01. Order 1234.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Why did the upstream return 502?' }] },
      ]),
      'gpt-4o-2024-08-06',
      'run-2024-05-01-1003',
      'chatcmpl-9x3AbCdEfGh',
      '/home/agent/projects/acme/app/src/redaction/worker',
      '2024-01-15T10:00:00.123Z',
      'v1.2.3',
      'a referrer sent a classic basically-empty note',
    ])
      expect(candidates(s)).toEqual([]);
  });

  it.each([
    ['email: the start of the local part', 'mail bob.smith@x.io', 'bob.smith@x.'],
    ['URL credentials', 'postgres://u:p@h', '://u:p@h'],
    ['private key', 'x ------BEGIN RSA', '-----BEGIN R'],
    ['bearer', 'Authorization BEARER abc', 'BEARER abc'],
    ['basic', 'basic dXNlcjpw', 'basic dXNlcj'],
    ['token prefix in a long run', 'key sk-proj-AbCdEfGhIjKl', 'sk-proj-AbCd'],
    ['AWS key id', 'id AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN'],
    ['secret assignment', 'db_password = x', 'password = x'],
    ['azure account key', 'x;AccountKey=abc', 'AccountKey=a'],
    ['azure client secret', 'abc8Q~aBcDeF', 'abc8Q~aBcDeF'],
    ['card', 'card 4111 1111 1111 1111', '4111 1111 11'],
    ['ssn', 'ssn 123-45-6789', '123-45-6789'],
    ['national phone', 'ring 020 7946 0958', '020 7946 095'],
    ['international phone', 'call +44 20', '+44 20'],
    ['bracketed area code', 'call (415) 555', '(415) 555'],
    ['ipv4', 'from 10.0.0.1', '10.0.0.1'],
    ['ipv6', 'peer fe80::1', 'fe80::1'],
    ['iban', 'iban DE89 3704 0044 0532 0130 00', 'DE89 3704 00'],
  ])('%s', (_what, s, expected) => {
    expect(candidates(s)).toContain(expected);
  });

  it('answers candidates in ascending order, and grows its buffer as needed', () => {
    const s = Array.from({ length: 300 }, (_, i) => `u${i}@x.io`).join(' ');
    const n = finder.find(s);
    expect(n).toBe(300);
    const ps = Array.from(finder.positions.subarray(0, n));
    expect(ps).toEqual([...ps].sort((a, b) => a - b));
  });

  // No timing assert: a quadratic walk on these inputs takes minutes; Jest's timeout fails it.
  it('stays linear on long runs of what it looks at', () => {
    for (const s of [
      '1 '.repeat(100_000),
      '1-'.repeat(100_000),
      '1.'.repeat(100_000),
      'a@'.repeat(100_000),
      'password'.repeat(20_000) + '=',
      ':'.repeat(200_000),
      'a'.repeat(200_000),
      'sk-'.repeat(60_000),
    ])
      expect(finder.find(s)).toBeGreaterThanOrEqual(0);
  });

  it('gathers the JSON facts compile.ts needs to leave clean JSON unparsed', () => {
    const json = '{"role":"user", "max_tokens" :12,"parts":[{"content":"Step 3: ok"}]}';
    expect(finder.find(json)).toBe(finder.structural); // only the syntax's own "max_tokens":
    expect(finder.structural).toBeGreaterThan(0);
    const keys = Array.from(finder.keyQuotes.subarray(0, finder.keyCount), (q) =>
      json.slice(json.lastIndexOf('"', q - 1) + 1, q),
    );
    expect(keys).toEqual(['role', 'max_tokens', 'parts', 'content']);
    expect(finder.numberHazard).toBe(false);
    expect(finder.levels).toBe(3);
    finder.find('["[1]", " {}", "a"]');
    expect(finder.levels).toBe(5); // strings holding JSON count a level more
    // a key assignment inside a string token is not the syntax's
    finder.find('{"note":"api_key: abcd1234"}');
    expect(finder.count).toBeGreaterThan(finder.structural);
    for (const n of ['4.111111111111111e15', '2E+9', '1e-7', '12345678901234567'])
      expect((finder.find(`[${n}]`), finder.numberHazard)).toBe(true);
    for (const n of ['123456789012345', '1.5', 'e5', '3 eggs'])
      expect((finder.find(`[${n}]`), finder.numberHazard)).toBe(false);
  });

  it('lists the same candidates and facts over code units (long strings) as over charCodeAt', () => {
    const facts = (s: string) => {
      const n = finder.find(s);
      return {
        positions: Array.from(finder.positions.subarray(0, n)),
        structural: finder.structural,
        keys: Array.from(finder.keyQuotes.subarray(0, finder.keyCount)),
        numberHazard: finder.numberHazard,
      };
    };
    const unit = fc.oneof(
      fc.constantFrom(...'aAbeyskrcsi:=@.-_"\'\n\t +(~/0123456789{}[]Q'),
      fc.constantFrom('Bearer ', 'basic ', '-----BEGIN', 'sk-proj-', 'password', 'é', 'ĳ', '💳'),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 40 }), (units) => {
        const s = units.join('');
        // trailing spaces change no candidate before them, and push the string onto the other loop
        expect(facts(s + ' '.repeat(60))).toEqual(facts(s));
      }),
      { numRuns: 1000 },
    );
  });
});
