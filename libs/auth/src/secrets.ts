/**
 * Secrets at rest (ARCHITECTURE.md, "Storage"; issue #5 item 4: "Sink credentials are
 * decrypted only in memory"): sink secrets and per-tenant HMAC keys are stored as
 * AES-256-GCM ciphertext under CUSTODIAN_ENCRYPTION_KEY (config.encryptionKey, 32 bytes).
 *
 * Blob format, one self-describing byte string per value:
 *
 *   version (1 byte, = 1) | IV (12 bytes, random) | tag (16 bytes) | ciphertext
 *
 * The AAD binds a ciphertext to the row it belongs to (`sink:<id>`, `tenant-hmac:<tenantId>`):
 * a blob copied into another row, or another tenant's row, fails to decrypt instead of
 * quietly handing one tenant's credentials to another. The version byte leaves room for a
 * key-rotation scheme (a key id) without guessing at old blobs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SECRET_BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const KEY_BYTES = 32;

/** A blob that cannot be decrypted: tampered, wrong key, wrong AAD, or malformed. */
export class SecretDecryptionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretDecryptionError';
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new RangeError(`the encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
}

/** Encrypts `plaintext` under `key`, bound to `aad` (e.g. `sink:<id>`). A fresh IV per call. */
export function encryptSecret(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = SECRET_BLOB_VERSION;
  iv.copy(out, 1);
  cipher.getAuthTag().copy(out, 1 + IV_BYTES);
  body.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Decrypts a blob from encryptSecret. Throws SecretDecryptionError when the blob was changed,
 * was written under another key or for another row (AAD), or is not a version-1 blob. The
 * message never contains key or plaintext material.
 */
export function decryptSecret(key: Uint8Array, blob: Uint8Array, aad: string): Buffer {
  checkKey(key);
  if (blob.length < HEADER_BYTES) {
    throw new SecretDecryptionError(
      `secret blob for "${aad}" is too short (${blob.length} bytes, at least ${HEADER_BYTES})`,
    );
  }
  if (blob[0] !== SECRET_BLOB_VERSION) {
    throw new SecretDecryptionError(
      `secret blob for "${aad}" has unknown version ${blob[0]} (expected ${SECRET_BLOB_VERSION})`,
    );
  }
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const iv = buf.subarray(1, 1 + IV_BYTES);
  const tag = buf.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES)), decipher.final()]);
  } catch (err) {
    throw new SecretDecryptionError(
      `secret blob for "${aad}" failed authentication: it was modified, or written under another key or for another record`,
      { cause: err },
    );
  }
}

/** encryptSecret for a JSON value (sink secret settings). */
export function encryptSecretJson(key: Uint8Array, value: unknown, aad: string): Buffer {
  return encryptSecret(key, Buffer.from(JSON.stringify(value), 'utf8'), aad);
}

/** decryptSecret, then JSON.parse; the parsed value is the caller's to validate. */
export function decryptSecretJson(key: Uint8Array, blob: Uint8Array, aad: string): unknown {
  const plain = decryptSecret(key, blob, aad);
  try {
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch (err) {
    throw new SecretDecryptionError(`secret blob for "${aad}" does not hold JSON`, { cause: err });
  } finally {
    plain.fill(0);
  }
}

/** The AAD of a sink's secret settings. */
export const sinkSecretAad = (sinkId: string): string => `sink:${sinkId}`;

/**
 * A sink row's secret settings, decrypted (in memory only), or undefined when it has none.
 * Throws SecretDecryptionError when the blob was written under another key or for another row.
 */
export function openSinkSecret(
  key: Uint8Array,
  sink: { id: string; secretCiphertext: Uint8Array | null },
): unknown {
  return sink.secretCiphertext
    ? decryptSecretJson(key, sink.secretCiphertext, sinkSecretAad(sink.id))
    : undefined;
}
/** The AAD of a tenant's HMAC key. */
export const tenantHmacAad = (tenantId: string): string => `tenant-hmac:${tenantId}`;
