import fc from 'fast-check';
import { hashApiKeySecret, mintApiKey, parseApiKey, verifyApiKeySecret } from './api-key';

const PEPPER = 'test-pepper-that-is-long-enough-0123456789';

describe('API keys', () => {
  it('mints keys that parse back to their id and verify against their stored hash', () => {
    const minted = mintApiKey(PEPPER);
    expect(minted.key).toMatch(/^cus_[a-z2-9]{12}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseApiKey(minted.key);
    expect(parsed?.id).toBe(minted.id);
    expect(verifyApiKeySecret(parsed!.secret, minted.secretHash, PEPPER)).toBe(true);
  });

  it('never stores the secret itself', () => {
    const minted = mintApiKey(PEPPER);
    const secret = parseApiKey(minted.key)!.secret;
    expect(minted.secretHash.toString('utf8')).not.toContain(secret);
    expect(minted.secretHash.toString('base64url')).not.toBe(secret);
    expect(minted.secretHash).toHaveLength(32);
  });

  it('rejects a secret hashed under another pepper, and any other secret', () => {
    const minted = mintApiKey(PEPPER);
    const { secret } = parseApiKey(minted.key)!;
    expect(verifyApiKeySecret(secret, minted.secretHash, `${PEPPER}x`)).toBe(false);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (other) => {
        fc.pre(other !== secret);
        return !verifyApiKeySecret(other, minted.secretHash, PEPPER);
      }),
    );
  });

  it('rejects a stored hash of the wrong length without throwing', () => {
    expect(verifyApiKeySecret('abc', Buffer.alloc(5), PEPPER)).toBe(false);
  });

  it('parses only well-formed keys', () => {
    expect(parseApiKey('')).toBeNull();
    expect(parseApiKey('Bearer cus_x')).toBeNull();
    expect(parseApiKey(`cus_ABCDEFGHIJKL_${'a'.repeat(43)}`)).toBeNull();
    expect(parseApiKey(`cus_abcdefghijkm_${'a'.repeat(42)}`)).toBeNull();
    expect(parseApiKey(`  cus_abcdefghijkm_${'a'.repeat(43)} `)).toEqual({
      id: 'abcdefghijkm',
      secret: 'a'.repeat(43),
    });
  });

  it('hashes deterministically per pepper', () => {
    expect(hashApiKeySecret('s', PEPPER).equals(hashApiKeySecret('s', PEPPER))).toBe(true);
    expect(hashApiKeySecret('s', PEPPER).equals(hashApiKeySecret('s', 'other'))).toBe(false);
  });

  it('mints distinct ids and secrets', () => {
    const keys = new Set(Array.from({ length: 200 }, () => mintApiKey(PEPPER).key));
    expect(keys.size).toBe(200);
  });
});
