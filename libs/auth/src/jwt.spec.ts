import { JwtError, signJwt, verifyJwt, type AccessTokenClaims } from './jwt';

const SECRET = 'unit-test-secret-0123456789abcdefghijkl';
const OPTS = { issuer: 'custodian', audience: 'custodian-admin', now: 1_000_000 };
const claims = (over: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  sub: 'user-1',
  iss: 'custodian',
  aud: 'custodian-admin',
  iat: 1_000_000,
  exp: 1_000_900,
  jti: 'j',
  ...over,
});

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof JwtError ? err.reason : 'other';
  }
  return undefined;
}

describe('HS256 access tokens', () => {
  it('round-trips claims', () => {
    expect(verifyJwt(signJwt(claims(), SECRET), SECRET, OPTS).sub).toBe('user-1');
  });

  it('refuses another key, a changed payload and alg none', () => {
    const token = signJwt(claims(), SECRET);
    expect(reason(() => verifyJwt(token, `${SECRET}x`, OPTS))).toBe('signature');
    const [h, , s] = token.split('.');
    const evil = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    expect(reason(() => verifyJwt(`${h}.${evil}.${s}`, SECRET, OPTS))).toBe('signature');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(reason(() => verifyJwt(`${none}.${evil}.`, SECRET, OPTS))).toBe('malformed');
    expect(reason(() => verifyJwt('a.b', SECRET, OPTS))).toBe('malformed');
  });

  it('checks exp (with 30 s leeway), iat, iss and aud', () => {
    expect(reason(() => verifyJwt(signJwt(claims({ exp: 999_960 }), SECRET), SECRET, OPTS))).toBe(
      'expired',
    );
    expect(
      reason(() => verifyJwt(signJwt(claims({ exp: 1_000_010 }), SECRET), SECRET, OPTS)),
    ).toBeUndefined();
    expect(reason(() => verifyJwt(signJwt(claims({ iat: 1_000_100 }), SECRET), SECRET, OPTS))).toBe(
      'claims',
    );
    expect(reason(() => verifyJwt(signJwt(claims({ iss: 'x' }), SECRET), SECRET, OPTS))).toBe(
      'claims',
    );
    expect(reason(() => verifyJwt(signJwt(claims({ aud: 'x' }), SECRET), SECRET, OPTS))).toBe(
      'claims',
    );
  });
});
