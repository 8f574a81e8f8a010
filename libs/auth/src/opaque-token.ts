/**
 * Opaque bearer secrets of the admin API: refresh tokens `cust_rt_<secret>` and service tokens
 * `cust_svc_<id>_<secret>`. 256 random bits each, so a plain SHA-256 is enough to store them
 * (no pepper or slow hash needed: nothing to brute-force); lookups are by that hash.
 */
import { createHash, randomBytes } from 'node:crypto';

export const REFRESH_TOKEN_PREFIX = 'cust_rt_';
export const SERVICE_TOKEN_PREFIX = 'cust_svc_';

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const SERVICE_TOKEN_PATTERN = /^cust_svc_([a-z2-9]{12})_([A-Za-z0-9_-]{43})$/;
const REFRESH_TOKEN_PATTERN = /^cust_rt_[A-Za-z0-9_-]{43}$/;

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export interface MintedOpaqueToken {
  /** The token, shown to its holder once. */
  token: string;
  /** SHA-256 of the whole token: what is stored. */
  hash: Buffer;
}

export function mintRefreshToken(): MintedOpaqueToken {
  const token = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256(token) };
}

export function isRefreshToken(token: string): boolean {
  return REFRESH_TOKEN_PATTERN.test(token);
}

export function mintServiceToken(): MintedOpaqueToken & { id: string } {
  let id = '';
  for (const b of randomBytes(12)) id += ID_ALPHABET[b % ID_ALPHABET.length];
  const token = `${SERVICE_TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: sha256(token) };
}

/** The public id of a service token, or null when the string is not shaped like one. */
export function parseServiceToken(token: string): { id: string } | null {
  const m = SERVICE_TOKEN_PATTERN.exec(token);
  return m ? { id: m[1] } : null;
}
