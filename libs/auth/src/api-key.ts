/**
 * Ingest API keys: `cus_<id>_<secret>`. The id (public) finds the row; the secret is never
 * stored, only HMAC-SHA256 under a server-side pepper, and is compared in constant time.
 * (../shared/ARCHITECTURE.md, "Security model".)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'cus_';
/** Lowercase base32 alphabet without look-alikes; ids are case-insensitive-safe in logs. */
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const KEY_PATTERN = /^cus_([a-z2-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface MintedApiKey {
  /** The full key, shown to the user exactly once. */
  key: string;
  id: string;
  secretHash: Buffer;
}

export interface ParsedApiKey {
  id: string;
  secret: string;
}

function randomId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export function hashApiKeySecret(secret: string, pepper: string): Buffer {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest();
}

export function mintApiKey(pepper: string): MintedApiKey {
  const id = randomId();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return {
    key: `${API_KEY_PREFIX}${id}_${secret}`,
    id,
    secretHash: hashApiKeySecret(secret, pepper),
  };
}

/** Splits a presented key; null when it is not shaped like one of ours. */
export function parseApiKey(presented: string): ParsedApiKey | null {
  const m = KEY_PATTERN.exec(presented.trim());
  return m ? { id: m[1], secret: m[2] } : null;
}

/** Constant-time check of a presented secret against the stored hash. */
export function verifyApiKeySecret(
  secret: string,
  storedHash: Uint8Array,
  pepper: string,
): boolean {
  const computed = hashApiKeySecret(secret, pepper);
  if (storedHash.length !== computed.length) return false;
  return timingSafeEqual(computed, storedHash);
}
