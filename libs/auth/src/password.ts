/**
 * Admin users' passwords: argon2id (OWASP's first choice) with @node-rs/argon2's defaults
 * (m=19 MiB, t=2, p=1 — OWASP's minimum recommended profile). `verifyPasswordOrDummy` does the
 * same work whether or not a user exists, so a login's response time does not reveal it.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/** Problems with a new password (empty when acceptable). */
export function passwordProblems(password: string): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) {
    problems.push(`password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    problems.push(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
  return problems;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: Algorithm.Argon2id });
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies `password` against `encoded`; when there is no hash (unknown user, token-only
 * account) it verifies against a fixed dummy hash and returns false, costing the same time.
 */
export async function verifyPasswordOrDummy(
  encoded: string | null | undefined,
  password: string,
): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) password = password.slice(0, PASSWORD_MAX_LENGTH);
  if (!encoded) {
    dummyHash ??= hashPassword('custodian-dummy-password-for-timing');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(encoded, password);
  } catch {
    return false;
  }
}
