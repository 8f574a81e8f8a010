import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  SECRET_BLOB_VERSION,
  SecretDecryptionError,
  decryptSecret,
  decryptSecretJson,
  encryptSecret,
  encryptSecretJson,
  sinkSecretAad,
  tenantHmacAad,
} from './secrets';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const plain = Buffer.from('{"headers":{"x-api-key":"dd-secret-123"}}', 'utf8');

describe('encryptSecret / decryptSecret', () => {
  it('round-trips and writes version | iv(12) | tag(16) | ciphertext', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    expect(blob[0]).toBe(SECRET_BLOB_VERSION);
    expect(blob).toHaveLength(1 + 12 + 16 + plain.length);
    expect(blob.includes(plain)).toBe(false);
    expect(blob.toString('latin1')).not.toContain('dd-secret-123');
    expect(decryptSecret(KEY, blob, 'sink:1').equals(plain)).toBe(true);
  });

  it('uses a fresh IV each time, so equal secrets give different blobs', () => {
    const a = encryptSecret(KEY, plain, 'sink:1');
    const b = encryptSecret(KEY, plain, 'sink:1');
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('refuses the blob under another AAD (another row)', () => {
    const blob = encryptSecret(KEY, plain, sinkSecretAad('a'));
    expect(() => decryptSecret(KEY, blob, sinkSecretAad('b'))).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(KEY, blob, tenantHmacAad('a'))).toThrow(/failed authentication/);
  });

  it('refuses the blob under another key', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    expect(() => decryptSecret(OTHER_KEY, blob, 'sink:1')).toThrow(SecretDecryptionError);
  });

  it('refuses a blob with any single byte changed (IV, tag or ciphertext)', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    for (let i = 1; i < blob.length; i++) {
      const t = Buffer.from(blob);
      t[i] ^= 0x01;
      expect(() => decryptSecret(KEY, t, 'sink:1')).toThrow(SecretDecryptionError);
    }
  });

  it('refuses an unknown version and a truncated blob with clear messages', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    const v2 = Buffer.from(blob);
    v2[0] = 2;
    expect(() => decryptSecret(KEY, v2, 'sink:1')).toThrow(/unknown version 2/);
    expect(() => decryptSecret(KEY, blob.subarray(0, 20), 'sink:1')).toThrow(/too short/);
  });

  it('error messages never contain the key or the plaintext', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    try {
      decryptSecret(OTHER_KEY, blob, 'sink:1');
      throw new Error('expected a failure');
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).not.toContain('dd-secret-123');
      expect(msg).not.toContain(OTHER_KEY.toString('hex'));
    }
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => encryptSecret(Buffer.alloc(16), plain, 'x')).toThrow(RangeError);
    expect(() => decryptSecret(Buffer.alloc(31), Buffer.alloc(40), 'x')).toThrow(RangeError);
  });

  it('accepts a blob that is a view into a larger buffer (as drivers return bytea)', () => {
    const blob = encryptSecret(KEY, plain, 'sink:1');
    const big = Buffer.concat([Buffer.from('junk'), blob, Buffer.from('more')]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 4, blob.length);
    expect(decryptSecret(KEY, view, 'sink:1').equals(plain)).toBe(true);
  });

  it('property: round trip for any key, plaintext and AAD; other AAD always fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 512 }),
        fc.string(),
        fc.string(),
        (key, data, aad, otherAad) => {
          const blob = encryptSecret(key, data, aad);
          expect(blob).toHaveLength(29 + data.length);
          expect(Buffer.from(decryptSecret(key, blob, aad)).equals(Buffer.from(data))).toBe(true);
          if (otherAad !== aad) {
            expect(() => decryptSecret(key, blob, otherAad)).toThrow(SecretDecryptionError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('JSON helpers', () => {
  it('round-trip a JSON value and refuse a non-JSON plaintext', () => {
    const key = randomBytes(32);
    const value = { headers: { authorization: 'Bearer abc' } };
    expect(decryptSecretJson(key, encryptSecretJson(key, value, 'sink:9'), 'sink:9')).toEqual(
      value,
    );
    const notJson = encryptSecret(key, Buffer.from('not json'), 'sink:9');
    expect(() => decryptSecretJson(key, notJson, 'sink:9')).toThrow(/does not hold JSON/);
  });
});
