import fc from 'fast-check';
import {
  BUILTIN_DETECTORS,
  BuiltinDetectorId,
  BuiltinScanner,
  Matches,
  SECRET_KEY_NAME,
} from './detectors';
import { ibanValid, ipv6Valid, luhnValid } from './validators';

const scanner = new BuiltinScanner(new Set(BUILTIN_DETECTORS));

/** [detector, matched text] for every detection in s. */
function detect(s: string): [BuiltinDetectorId, string][] {
  const m = new Matches();
  scanner.scan(s, m);
  const out: [BuiltinDetectorId, string][] = [];
  for (let i = 0; i < m.count; i++)
    out.push([scanner.ids[m.kinds[i]], s.slice(m.starts[i], m.ends[i])]);
  return out;
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';

/** Positive examples: the text, the detector, the exact part that must be redacted. */
const POSITIVE: [string, BuiltinDetectorId, string][] = [
  ['write to bob.smith+tag@example.co.uk today', 'email', 'bob.smith+tag@example.co.uk'],
  ["o'brien@mail.example.ie", 'email', "o'brien@mail.example.ie"],
  ['call +14155552671', 'phone', '+14155552671'],
  ['call +1 415 555 2671 now', 'phone', '+1 415 555 2671'],
  ['call +44 20 7946 0958', 'phone', '+44 20 7946 0958'],
  ['call (415) 555-2671', 'phone', '(415) 555-2671'],
  ['call 415-555-2671', 'phone', '415-555-2671'],
  ['appelle 01 23 45 67 89', 'phone', '01 23 45 67 89'],
  ['ring 020 7946 0958', 'phone', '020 7946 0958'],
  ['card 4111 1111 1111 1111 exp 12/29', 'payment_card', '4111 1111 1111 1111'],
  ['card 4111-1111-1111-1111', 'payment_card', '4111-1111-1111-1111'],
  ['card 4111111111111111', 'payment_card', '4111111111111111'],
  ['amex 3782 822463 10005', 'payment_card', '3782 822463 10005'],
  ['mc 5555555555554444 then 2024', 'payment_card', '5555555555554444'],
  ['visa 4111 1111 1111 1111 2024', 'payment_card', '4111 1111 1111 1111'],
  ['iban DE89 3704 0044 0532 0130 00 thanks', 'iban', 'DE89 3704 0044 0532 0130 00'],
  ['iban GB82WEST12345698765432', 'iban', 'GB82WEST12345698765432'],
  ['ssn 123-45-6789', 'us_ssn', '123-45-6789'],
  ['ssn 123 45 6789', 'us_ssn', '123 45 6789'],
  ['from 192.168.1.20:8080', 'ipv4', '192.168.1.20'],
  ['peer 8.8.8.8.', 'ipv4', '8.8.8.8'],
  ['peer 2001:db8::8a2e:370:7334 ok', 'ipv6', '2001:db8::8a2e:370:7334'],
  ['lo ::1', 'ipv6', '::1'],
  ['mapped ::ffff:192.0.2.128', 'ipv6', '::ffff:192.0.2.128'],
  [
    'full 2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    'ipv6',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
  ],
  [`token ${JWT} end`, 'jwt', JWT],
  ['Authorization Bearer abcdef1234567890xyz', 'bearer_token', 'abcdef1234567890xyz'],
  ['header: Basic dXNlcjpwYXNzd29yZA==', 'basic_auth', 'dXNlcjpwYXNzd29yZA=='],
  ['dsn postgres://admin:s3cr3t@db.local:5432/app', 'url_credentials', 'admin:s3cr3t'],
  ['https://user:p%40ss@example.com/x', 'url_credentials', 'user:p%40ss'],
  [`key ${PEM} tail`, 'private_key', PEM],
  [
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (truncated',
    'private_key',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (truncated',
  ],
  ['id AKIAIOSFODNN7EXAMPLE', 'aws_access_key_id', 'AKIAIOSFODNN7EXAMPLE'],
  ['ASIAY34FZKBOKMUTVV7A', 'aws_access_key_id', 'ASIAY34FZKBOKMUTVV7A'],
  [
    'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'aws_secret_access_key',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  [
    'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe',
    'gcp_api_key',
    'AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe',
  ],
  [
    'ya29.a0AfH6SMBx3kLwLx9dG2vT8qJ-abcdefgh',
    'gcp_oauth_token',
    'ya29.a0AfH6SMBx3kLwLx9dG2vT8qJ-abcdefgh',
  ],
  [
    'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
    'azure_key',
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  ],
  [
    'secret abc8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456',
    'azure_key',
    'abc8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456',
  ],
  ['sk-ant-api03-' + 'a1B2'.repeat(20), 'anthropic_api_key', 'sk-ant-api03-' + 'a1B2'.repeat(20)],
  [
    'OPENAI_API_KEY sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
    'openai_api_key',
    'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234',
  ],
  ['sk-' + 'Ab1'.repeat(16), 'openai_api_key', 'sk-' + 'Ab1'.repeat(16)],
  [
    'ghp_' + 'A1b2C3d4E5'.repeat(4).slice(0, 36),
    'github_token',
    'ghp_' + 'A1b2C3d4E5'.repeat(4).slice(0, 36),
  ],
  [
    'github_pat_11ABCDEFG0abcdefghijkl_' + 'x'.repeat(59),
    'github_token',
    'github_pat_11ABCDEFG0abcdefghijkl_' + 'x'.repeat(59),
  ],
  ['glpat-AbCdEfGhIjKlMnOpQrSt', 'gitlab_token', 'glpat-AbCdEfGhIjKlMnOpQrSt'],
  [
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'slack_token',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  ],
  [
    'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'slack_token',
    'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
  ],
  ['sk_live_51H8abcdefGHIJKLmnop', 'stripe_key', 'sk_live_51H8abcdefGHIJKLmnop'],
  [
    'whsec_abcdefghijklmnopqrstuvwxyz012345',
    'stripe_key',
    'whsec_abcdefghijklmnopqrstuvwxyz012345',
  ],
  [
    'hf_' + 'aBcDeFgHiJ'.repeat(3) + 'kLmN',
    'huggingface_token',
    'hf_' + 'aBcDeFgHiJ'.repeat(3) + 'kLmN',
  ],
  ['gsk_' + 'a1B2c3D4'.repeat(7), 'llm_api_key', 'gsk_' + 'a1B2c3D4'.repeat(7)],
  [
    'npm_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36),
    'saas_token',
    'npm_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36),
  ],
  [
    'SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    'saas_token',
    'SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  ],
  ['cus_abcdefghjkmn_' + 'Z'.repeat(43), 'custodian_api_key', 'cus_abcdefghjkmn_' + 'Z'.repeat(43)],
  ['password=hunter22!', 'secret_assignment', 'hunter22!'],
  ['{"password": "hunter 2"}', 'secret_assignment', 'hunter 2'],
  ['clientSecret="abc12345"', 'secret_assignment', 'abc12345'],
  ['DB_PASSWORD: s3cr3t-value', 'secret_assignment', 's3cr3t-value'],
  ['Authorization: Bearer abc', 'secret_assignment', 'Bearer abc'],
  ['api_key=abcd1234', 'secret_assignment', 'abcd1234'],
];

/** Negative examples: nothing in them is a detection. */
const NEGATIVE: [string, string][] = [
  ['Luhn-invalid 16 digits are not cards', 'order 4111 1111 1111 1112'],
  ['long ids are not cards', 'id 41111111111111111111111'],
  ['nanosecond timestamps are not cards', 'ts 1700000000000000000'],
  ['all-zero numbers are not cards', 'n 0000000000000000'],
  ['UUIDs are not phone numbers', 'id 123e4567-e89b-12d3-a456-426614174000'],
  ['numeric UUIDs are not phone numbers', 'id 12345678-1234-1234-1234-123456789012'],
  ['dates are not phones', 'on 2024-01-15 at 2024-01-15T10:00:00Z'],
  ['short numbers are not phones', 'call +12 34'],
  ['version strings are not IPs', 'release v1.2.3.4 and version 1.2.3 and 1.2.3.4.5'],
  ['octets above 255 are not IPs', 'addr 300.1.1.1'],
  ['clock times are not IPv6', 'at 12:30:45'],
  ['MAC addresses are not IPv6', 'mac 00:1A:2B:3C:4D:5E'],
  ['C++ scopes are not IPv6', 'std::vector and Foo::Bar'],
  ['IBAN with a bad checksum', 'iban DE88 3704 0044 0532 0130 00'],
  ['invalid SSN areas', 'ssn 000-12-3456 666-12-3456 900-12-3456'],
  ['"Basic" prose is not a credential', 'Basic information about the plan'],
  ['"Bearer" prose is not a credential', 'the bearer token scheme, Bearer authentication'],
  ['a non-JSON eyJ string is not a JWT', 'eyJzomethingweird.eyJabcdefghijk.xyz'],
  ['token counts are not secrets', '{"max_tokens": 1000, "input_tokens": 1234, "token_count": 42}'],
  ['secretary is not secret', 'secretary: John Smith'],
  ['URLs without credentials', 'https://example.com:8443/x?q=1#frag'],
  ['git SHAs are not AWS keys', 'commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904'],
  [
    'redaction tokens are not secrets',
    'password=[REDACTED:secret_assignment] api_key: "[REDACTED:x]"',
  ],
  ['plain prose', 'The agent planned three steps and called the search tool twice.'],
];

describe('built-in detectors', () => {
  it.each(POSITIVE)('finds %j as %s', (text, id, part) => {
    expect(detect(text)).toContainEqual([id, part]);
  });

  it.each(NEGATIVE)('%s', (_why, text) => {
    expect(detect(text)).toEqual([]);
  });

  it('every built-in detector has at least one positive example', () => {
    const covered = new Set(POSITIVE.map((p) => p[1]));
    expect(BUILTIN_DETECTORS.filter((d) => !covered.has(d))).toEqual([]);
  });

  it('returns non-overlapping detections in order', () => {
    const s = 'a@b.io 4111111111111111 10.0.0.1 a@b.io';
    expect(detect(s).map((d) => d[0])).toEqual(['email', 'payment_card', 'ipv4', 'email']);
  });

  it('finds a later detector at a position where an earlier one failed its check', () => {
    // the card alternative comes first and fails Luhn; the SSN-shaped prefix must not hide the
    // phone that starts at the same position
    expect(detect('x 415 555 2671')).toEqual([['phone', '415 555 2671']]);
  });

  it('only runs enabled detectors', () => {
    const only = new BuiltinScanner(new Set<BuiltinDetectorId>(['email']));
    const m = new Matches();
    only.scan('a@b.io 4111111111111111', m);
    expect(m.count).toBe(1);
    expect(new BuiltinScanner(new Set()).scan('a@b.io', m)).toBe(0);
  });

  // No timing assert: a pattern with catastrophic backtracking takes minutes on these inputs,
  // so Jest's per-test timeout is what fails.
  it('stays linear on long runs that almost match (no catastrophic backtracking)', () => {
    const inputs = [
      'a'.repeat(200_000),
      '1'.repeat(200_000),
      'password_' + 'A'.repeat(100_000) + '!',
      'a.'.repeat(100_000),
      ':'.repeat(100_000),
      'eyJ' + 'a'.repeat(100_000),
      'x@' + 'a-'.repeat(100_000),
    ];
    for (const s of inputs) expect(detect(s)).toEqual([]);
  });
});

describe('secret key names', () => {
  it.each([
    'password',
    'db.password',
    'clientSecret',
    'x-api-key',
    'access_token',
    'AWS_SECRET_ACCESS_KEY',
    'password_hash',
    'set-cookie',
  ])('%s names a credential', (k) => expect(SECRET_KEY_NAME.test(k)).toBe(true));
  it.each(['max_tokens', 'token_count', 'secretary', 'passenger', 'llm.model', 'user.id'])(
    '%s does not',
    (k) => expect(SECRET_KEY_NAME.test(k)).toBe(false),
  );
});

describe('validators', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111', 0, 16)).toBe(true);
    expect(luhnValid('4111111111111112', 0, 16)).toBe(false);
    expect(luhnValid('4111 1111 1111 1111', 0, 19)).toBe(true);
    expect(luhnValid('0000000000000000', 0, 16)).toBe(false); // all one digit
    expect(luhnValid('424242424242', 0, 12)).toBe(false); // too short
  });
  it('IBAN mod-97', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765431')).toBe(false);
    expect(ibanValid('DE89')).toBe(false);
  });
  it('IPv6 grammar', () => {
    expect(ipv6Valid('::1')).toBe(true);
    expect(ipv6Valid('fe80::1:2:3:4')).toBe(true);
    expect(ipv6Valid('1:2:3:4:5:6:7:8')).toBe(true);
    expect(ipv6Valid('1:2:3:4:5:6:7')).toBe(false);
    expect(ipv6Valid('1::2::3')).toBe(false);
    expect(ipv6Valid('::')).toBe(false);
    expect(ipv6Valid('::ffff:1.2.3.999')).toBe(false);
  });
});

/**
 * The prefilter (prefilter.ts) must never miss what the full scan finds (issue #4): `scan`
 * (prefilter + sticky pattern at candidates) and `scanFull` (the plain global scan it replaces)
 * must agree exactly — same detections, same bounds, same detectors — on any text.
 */
describe('prefilter + sticky scan equals the full scan', () => {
  const both = (sc: BuiltinScanner, s: string): [string, string] => {
    const dump = (full: boolean): string => {
      const m = new Matches();
      if (full) sc.scanFull(s, m);
      else sc.scan(s, m);
      const out: string[] = [];
      for (let i = 0; i < m.count; i++)
        out.push(`${sc.ids[m.kinds[i]]}@${m.starts[i]}-${m.ends[i]}`);
      return out.join(' ');
    };
    return [dump(false), dump(true)];
  };

  // every positive example, its redacted part, and near misses: cut, or one character changed
  const examples = POSITIVE.flatMap(([text, , part]) => [text, part]);
  const TRICKY = 'aAbBcCeEgGkKpPrRsSxXyYQq0123456789 \t\n._-+/=@:~()"\'\\,;&<>[]{}#?%!é中\u00a0';
  const noise = fc.array(fc.constantFrom(...TRICKY), { maxLength: 8 }).map((cs) => cs.join(''));
  const digits = fc
    .array(fc.constantFrom(...'0123456789 -.'), { minLength: 1, maxLength: 24 })
    .map((cs) => cs.join(''));
  const example = fc.constantFrom(...examples);
  const cut = fc
    .tuple(example, fc.nat(), fc.nat())
    .map(([e, a, b]) => e.slice(Math.min(a, b) % (e.length + 1), Math.max(a, b) % (e.length + 1)));
  const mutated = fc
    .tuple(example, fc.nat(), fc.constantFrom(...TRICKY))
    .map(([e, i, c]) => e.slice(0, i % e.length) + c + e.slice((i % e.length) + 1));
  const text = fc
    .array(fc.oneof(noise, example, cut, mutated, digits), { minLength: 1, maxLength: 6 })
    .map((parts) => parts.join(''));

  it('on random text with embedded secrets of every detector (all detectors on)', () => {
    fc.assert(
      fc.property(text, (s) => {
        const [fast, full] = both(scanner, s);
        expect(fast).toBe(full);
      }),
      { numRuns: 4000 },
    );
  });

  it('with any subset of detectors on', () => {
    fc.assert(
      fc.property(fc.subarray([...BUILTIN_DETECTORS]), text, (ids, s) => {
        const [fast, full] = both(new BuiltinScanner(new Set(ids)), s);
        expect(fast).toBe(full);
      }),
      { numRuns: 1500 },
    );
  });

  it.each(POSITIVE)('finds %j at the same place as the full scan, in any context', (t) => {
    fc.assert(
      fc.property(noise, noise, (pre, post) => {
        const [fast, full] = both(scanner, pre + t + post);
        expect(fast).toBe(full);
      }),
      { numRuns: 60 },
    );
  });
});
