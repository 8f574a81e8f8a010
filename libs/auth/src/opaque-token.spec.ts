import {
  isRefreshToken,
  mintRefreshToken,
  mintServiceToken,
  parseServiceToken,
  sha256,
} from './opaque-token';

describe('opaque tokens', () => {
  it('mints refresh tokens stored only as their SHA-256', () => {
    const a = mintRefreshToken();
    expect(isRefreshToken(a.token)).toBe(true);
    expect(a.hash.equals(sha256(a.token))).toBe(true);
    expect(mintRefreshToken().token).not.toBe(a.token);
    expect(isRefreshToken(`${a.token}x`)).toBe(false);
  });

  it('mints service tokens with a public id', () => {
    const t = mintServiceToken();
    expect(t.token).toMatch(/^cust_svc_[a-z2-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseServiceToken(t.token)).toEqual({ id: t.id });
    expect(parseServiceToken('cus_abcdefghijkm_x')).toBeNull();
    expect(t.hash.equals(sha256(t.token))).toBe(true);
  });
});
