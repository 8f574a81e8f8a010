import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CandidateFinder, passHits, simdPrefilterAvailable } from './prefilter';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require('../../../../scripts/build-wasm.js') as {
  assemble(path: string): Promise<Buffer>;
  render(spec: { wat: string; name: string }, binary: Buffer): string;
  MODULES: { wat: string; out: string; name: string }[];
};

const ROOT = join(__dirname, '../../../..');
const finder = new CandidateFinder();
const simd = finder;
const js = new CandidateFinder(false);

/** Everything find() leaves behind, for one finder. */
function facts(f: CandidateFinder, s: string) {
  const n = f.find(s);
  return {
    positions: Array.from(f.positions.subarray(0, n)),
    structural: f.structural,
    keyQuotes: Array.from(f.keyQuotes.subarray(0, f.keyCount)),
    keyOpens: Array.from(f.keyOpens.subarray(0, f.keyCount)),
    numberHazard: f.numberHazard,
    levels: f.levels,
  };
}

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

  it('lists the same candidates and facts for long strings (a copy of their code units) as over charCodeAt', () => {
    const unit = fc.oneof(
      fc.constantFrom(...'aAbeyskrcsi:=@.-_"\'\n\t +(~/0123456789{}[]Q'),
      fc.constantFrom('Bearer ', 'basic ', '-----BEGIN', 'sk-proj-', 'password', 'é', 'ĳ', '💳'),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 40 }), (units) => {
        const s = units.join('');
        // trailing spaces change no candidate before them, and push the string onto the other loop
        for (const f of [simd, js]) expect(facts(f, s + ' '.repeat(60))).toEqual(facts(f, s));
      }),
      { numRuns: 1000 },
    );
  });
});

/**
 * Characters weighted towards what the pass classifies: every event character, token
 * characters (runs of 15 build up), the predecessors that matter (dash, r/c before a space),
 * and characters the narrowing must treat as non-ASCII: Latin-1 (0xE9), 0x100 (low byte 0x00),
 * 0x4E2D (saturates to 0xFF), 0x8000 and a surrogate pair (saturate to 0x00), NUL, 0x7F.
 */
const CHARS = [
  ...'@:=~+([{-- \t\n"\\\'/.,_;',
  ...'0123456789',
  ...'aArRcCsSkKeEpPbBqQ',
  ...'xyzXYZ',
  'é',
  '\u0100',
  '\u012d',
  '中',
  '\u8000',
  '😀',
  '\u0000',
  '\u007f',
];
const unit = fc.constantFrom(...CHARS);
const pieces = fc.constantFrom(
  'sk-proj-AbCdEfGhIjKlMnOp',
  'AKIAIOSFODNN7EXAMPLE',
  '"password": "x"',
  '4111 1111 1111 1111',
  '-----BEGIN',
  'Bearer ',
  'basic ',
  'user@example.com',
  'postgres://u:p@h',
  'fe80::1',
  '10.0.0.1',
  '1e21',
  'AccountKey=',
  'abc8Q~',
  'aaaaaaaaaaaaaa', // 14: one short of a run
  'bbbbbbbbbbbbbbb', // 15
  // the shapes whose events the WebAssembly pass drops or keeps by what is around them
  'GB82 1', // IBAN: two capitals before a digit
  '2.5E+15',
  '7 1',
  '" [',
  '"{',
  'bEaReR\t',
  'Basic',
);
const text = fc
  .array(fc.oneof({ weight: 4, arbitrary: unit }, { weight: 1, arbitrary: pieces }), {
    maxLength: 160,
  })
  .map((parts) => parts.join(''));

describe("a JSON key's opening quote, where the pass saw it (issue #4)", () => {
  it('is -1 or the last quote before the closing one, on any text', () => {
    const part = fc.constantFrom(
      '"',
      ':',
      ' ',
      '\n',
      'ab',
      'x-y.z_1',
      'a b',
      '\\',
      '{',
      "'",
      'k'.repeat(60),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 24 }), (parts) => {
        const s = parts.join('');
        for (const f of [simd, js]) {
          f.find(s);
          for (let k = 0; k < f.keyCount; k++) {
            const open = f.keyOpens[k];
            if (open === -1) continue;
            const close = f.keyQuotes[k];
            expect(s[open]).toBe('"');
            expect(s.lastIndexOf('"', close - 1)).toBe(open);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is found for the keys of compact and spaced JSON', () => {
    const s = JSON.stringify({ role: 'user', parts: [{ type: 'text' }] }) + ' {"a" : 1, "": 2}';
    finder.find(s);
    const opens = Array.from(finder.keyOpens.subarray(0, finder.keyCount));
    expect(opens).not.toContain(-1);
    expect(opens.map((o, k) => s.slice(o + 1, finder.keyQuotes[k]))).toEqual([
      'role',
      'parts',
      'type',
      'a',
      '',
    ]);
  });
});

describe('the prefilter pass in WebAssembly (prefilter.wat)', () => {
  it('runs here: Node has WebAssembly SIMD, so the production path is the one tested below', () => {
    expect(simdPrefilterAvailable()).toBe(true);
  });

  it('prefilter-wasm.ts is prefilter.wat as scripts/build-wasm.js assembles it', async () => {
    for (const spec of build.MODULES) {
      const binary = await build.assemble(join(ROOT, spec.wat));
      expect(binary.subarray(0, 4).toString('latin1')).toBe('\0asm');
      expect(readFileSync(join(ROOT, spec.out), 'utf8')).toBe(build.render(spec, binary));
    }
  });

  it('finds what the JavaScript loop finds, with the same facts, on any string', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(passHits(s, true)).toEqual(passHits(s, false));
        expect(facts(simd, s)).toEqual(facts(js, s));
      }),
      { numRuns: 3000 },
    );
  });

  it('at every length around the 16-character chunks, and runs that cross them', () => {
    const filler = 'The agent called the tool. ';
    for (let len = 40; len <= 120; len++) {
      const base = filler.repeat(5).slice(0, len);
      for (const insert of ['', 'xoxb-0123456789ab', '1', '@', 'r ', '--', 'aaaaaaaaaaaaaaa']) {
        for (const at of [0, len - insert.length, len >> 1, 15, 16, 17, 31, 32, 33]) {
          if (at < 0 || at > len) continue;
          const s = base.slice(0, at) + insert + base.slice(at + insert.length);
          expect({ s, hits: passHits(s, true) }).toEqual({ s, hits: passHits(s, false) });
          expect({ s, ...facts(simd, s) }).toEqual({ s, ...facts(js, s) });
        }
      }
    }
  });

  it('classifies every character as the JavaScript tables do (its nibble tables cover all 128 ASCII codes)', () => {
    const codes = [...Array.from({ length: 0x300 }, (_, c) => c), 0x4e2d, 0x8000, 0xd83d, 0xfeff];
    for (const c of codes) {
      const ch = String.fromCharCode(c);
      // a run of it (token character or not), it inside and after a token run, after a digit,
      // a dash, an r and a quote, and before a space, a digit, a bracket and a ':'
      const s = `${ch.repeat(20)}${'a'.repeat(10)}${ch}${'b'.repeat(10)}r${ch}-${ch}"${ch}9${ch}${ch} [${ch}1 "k"${ch}:z ab${ch}:z ${ch}b:z`;
      expect({ c, hits: passHits(s, true) }).toEqual({ c, hits: passHits(s, false) });
      expect({ c, ...facts(simd, s) }).toEqual({ c, ...facts(js, s) });
    }
  });

  it('reuses and grows its memory across strings of very different lengths', () => {
    const long = 'x'.repeat(300_000) + ' mail bob@example.com ' + '7'.repeat(20);
    const short = 'a token sk-proj-AbCdEfGhIjKlMnOpQrSt here and there, twice';
    for (const s of [short, long, short, long.slice(-70_000), short]) {
      expect(facts(simd, s)).toEqual(facts(js, s));
      expect(facts(simd, s).positions.length).toBeGreaterThan(0);
    }
  });
});
