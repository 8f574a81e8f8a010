/**
 * Admin access tokens: compact JWS with HS256 (RFC 7519/7515), signed and verified with
 * node:crypto only. Verification pins the algorithm (no `alg: none`, no key confusion),
 * compares the MAC in constant time and checks exp, nbf/iat, iss and aud.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface AccessTokenClaims {
  /** The user id. */
  sub: string;
  iss: string;
  aud: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
  /** Unique id of this token. */
  jti: string;
  [claim: string]: unknown;
}

export class JwtError extends Error {
  constructor(
    readonly reason: 'malformed' | 'signature' | 'expired' | 'claims',
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function mac(secret: string | Buffer, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signJwt(claims: AccessTokenClaims, secret: string | Buffer): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signingInput = `${HEADER}.${payload}`;
  return `${signingInput}.${mac(secret, signingInput).toString('base64url')}`;
}

export interface VerifyJwtOptions {
  issuer: string;
  audience: string;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
  /** Allowed clock skew in seconds (default 30). */
  leewaySeconds?: number;
}

export function verifyJwt(
  token: string,
  secret: string | Buffer,
  opts: VerifyJwtOptions,
): AccessTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new JwtError('malformed', 'not a compact JWS');
  }
  const [headerB64, payloadB64, sigB64] = parts;
  let header: { alg?: unknown; typ?: unknown };
  let claims: Partial<AccessTokenClaims>;
  try {
    header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', 'header or payload is not JSON');
  }
  if (header.alg !== 'HS256') throw new JwtError('malformed', 'algorithm must be HS256');
  const expected = mac(secret, `${headerB64}.${payloadB64}`);
  const presented = Buffer.from(sigB64, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new JwtError('signature', 'signature does not verify');
  }
  if (typeof claims !== 'object' || claims === null) throw new JwtError('claims', 'bad claims');
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const leeway = opts.leewaySeconds ?? 30;
  if (typeof claims.exp !== 'number' || now - leeway >= claims.exp) {
    throw new JwtError('expired', 'token expired');
  }
  if (typeof claims.iat !== 'number' || claims.iat > now + leeway) {
    throw new JwtError('claims', 'token issued in the future');
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now + leeway) {
    throw new JwtError('claims', 'token not yet valid');
  }
  if (claims.iss !== opts.issuer) throw new JwtError('claims', 'wrong issuer');
  if (claims.aud !== opts.audience) throw new JwtError('claims', 'wrong audience');
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    throw new JwtError('claims', 'missing subject');
  }
  return claims as AccessTokenClaims;
}
