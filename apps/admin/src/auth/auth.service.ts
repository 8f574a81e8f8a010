/**
 * Identity for the admin API (issue #6 item 1): password sign-in with argon2id, short-lived
 * HS256 access tokens, rotating refresh tokens with reuse detection, and service tokens for
 * automation. Every outcome is audited; failures never say whether the account exists.
 *
 * Failed sign-ins: 5 in a row lock the account for 15 minutes (even the right password is then
 * refused, with the same answer as a wrong one), and Redis caps attempts per client address and
 * email at 10 per 5 minutes. Unknown emails cost the same argon2 verification as known ones.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  JwtError,
  hashPassword,
  isRefreshToken,
  passwordProblems,
  mintRefreshToken,
  mintServiceToken,
  parseServiceToken,
  sha256,
  signJwt,
  verifyJwt,
  verifyPasswordOrDummy,
} from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import { PrismaService } from '@custodian/db';
import { CONFIG } from '@custodian/ops';
import { RedisConnection } from '@custodian/redis';
import { AdminAudit } from '../audit/admin-audit.service';
import { defineAbilityFor, type TenantRole } from './abilities';
import type { Actor, RequestMeta } from './actor';
import { adminError, badInput, notFound, unauthenticated } from './errors';

export const JWT_ISSUER = 'custodian';
export const JWT_AUDIENCE = 'custodian-admin';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 24 * 3600;
export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_MINUTES = 15;
export const LOGIN_RATE_LIMIT = { attempts: 10, windowSeconds: 300 };
export const SERVICE_TOKEN_MAX_DAYS = 366;

const LOGIN_FAILED = `invalid email or password (after ${LOCKOUT_THRESHOLD} failed attempts an account is locked for ${LOCKOUT_MINUTES} minutes)`;

export interface IssuedSession {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  userId: string;
}

export interface IssuedServiceToken {
  id: string;
  token: string;
  userId: string;
  tenantId: string;
  name: string;
  role: TenantRole;
  expiresAt: Date | null;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

@Injectable()
export class AuthService {
  constructor(
    @Inject(CONFIG) private readonly config: CustodianConfig,
    private readonly prisma: PrismaService,
    private readonly redis: RedisConnection,
    private readonly audit: AdminAudit,
  ) {}

  private get db() {
    return this.prisma.client;
  }

  async login(emailRaw: string, password: string, meta: RequestMeta): Promise<IssuedSession> {
    const email = normalizeEmail(emailRaw);
    if (!EMAIL.test(email)) throw badInput('email: expected an email address');
    await this.rateLimitLogin(email, meta);

    const user = await this.db.user.findUnique({ where: { email } });
    // Always verify (against a dummy hash when there is no user): same cost either way.
    const passwordOk = await verifyPasswordOrDummy(user?.passwordHash, password);
    const now = new Date();
    const locked = !!user?.lockedUntil && user.lockedUntil > now;
    let failure: string | null = null;
    if (!user) failure = 'unknown_user';
    else if (user.isServiceAccount) failure = 'service_account';
    else if (user.disabledAt) failure = 'disabled';
    else if (locked) failure = 'locked';
    else if (!passwordOk) failure = 'bad_password';

    if (failure !== null) {
      let lockedNow = false;
      if (user && failure === 'bad_password') {
        const updated = await this.db.user.update({
          where: { id: user.id },
          data: { failedLogins: { increment: 1 } },
        });
        if (updated.failedLogins >= LOCKOUT_THRESHOLD) {
          lockedNow = true;
          await this.db.user.update({
            where: { id: user.id },
            data: {
              failedLogins: 0,
              lockedUntil: new Date(now.getTime() + LOCKOUT_MINUTES * 60_000),
            },
          });
        }
      }
      await this.audit.record(
        null,
        {
          action: 'auth.login_failed',
          tenantId: null,
          outcome: 'failure',
          targetType: user ? 'User' : undefined,
          targetId: user?.id,
          reason: failure,
          details: { email, ...(lockedNow ? { lockedForMinutes: LOCKOUT_MINUTES } : {}) },
        },
        { meta },
      );
      throw unauthenticated(LOGIN_FAILED);
    }

    const u = user!;
    await this.db.user.update({
      where: { id: u.id },
      data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now },
    });
    const session = await this.issueSession(u.id, randomUUID(), meta);
    await this.audit.record(
      null,
      {
        action: 'auth.login',
        tenantId: null,
        targetType: 'User',
        targetId: u.id,
        details: { email },
      },
      { meta, actorType: 'user', actorId: u.id },
    );
    return session;
  }

  /** Fixed-window counter per client address + email, in Redis (shared by every admin pod). */
  private async rateLimitLogin(email: string, meta: RequestMeta): Promise<void> {
    const key = `custodian:admin:login:${sha256(`${meta.ip ?? '-'}|${email}`).toString('hex')}`;
    let count: number;
    try {
      const [[, n]] = (await this.redis.client
        .multi()
        .incr(key)
        .expire(key, LOGIN_RATE_LIMIT.windowSeconds, 'NX')
        .exec()) as [[Error | null, number], [Error | null, number]];
      count = n;
    } catch {
      // Redis down: the per-account lockout in PostgreSQL still stops guessing.
      return;
    }
    if (count > LOGIN_RATE_LIMIT.attempts) {
      await this.audit.record(
        null,
        {
          action: 'auth.login_failed',
          tenantId: null,
          outcome: 'denied',
          reason: 'rate_limited',
          details: { email },
        },
        { meta },
      );
      throw adminError(
        'TOO_MANY_REQUESTS',
        `too many sign-in attempts; wait up to ${LOGIN_RATE_LIMIT.windowSeconds / 60} minutes`,
      );
    }
  }

  private async issueSession(
    userId: string,
    familyId: string,
    meta: RequestMeta,
    replaces?: string,
  ): Promise<IssuedSession> {
    const nowSec = Math.floor(Date.now() / 1000);
    const exp = nowSec + ACCESS_TOKEN_TTL_SECONDS;
    const accessToken = signJwt(
      { sub: userId, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: nowSec, exp, jti: randomUUID() },
      this.config.adminJwtSecret,
    );
    const refresh = mintRefreshToken();
    const refreshTokenExpiresAt = new Date(Date.now() + REFRESH_TOKEN_TTL_SECONDS * 1000);
    await this.db.$transaction(async (tx) => {
      const created = await tx.refreshToken.create({
        data: {
          userId,
          familyId,
          tokenHash: new Uint8Array(refresh.hash),
          expiresAt: refreshTokenExpiresAt,
          ip: meta.ip,
          userAgent: meta.userAgent,
        },
      });
      if (replaces) {
        await tx.refreshToken.update({
          where: { id: replaces },
          data: { replacedById: created.id },
        });
      }
    });
    return {
      accessToken,
      accessTokenExpiresAt: new Date(exp * 1000),
      refreshToken: refresh.token,
      refreshTokenExpiresAt,
      userId,
    };
  }

  /** Rotates a refresh token. Presenting a spent one revokes its whole family. */
  async refresh(token: string, meta: RequestMeta): Promise<IssuedSession> {
    const invalid = unauthenticated('invalid or expired refresh token: sign in again');
    if (!isRefreshToken(token)) throw invalid;
    const row = await this.db.refreshToken.findUnique({
      where: { tokenHash: new Uint8Array(sha256(token)) },
      include: { user: true },
    });
    if (!row) throw invalid;
    const now = new Date();
    if (row.revokedAt) {
      await this.revokeFamily(row.familyId, 'reuse_detected');
      await this.audit.record(
        null,
        {
          action: 'auth.refresh_reuse',
          tenantId: null,
          outcome: 'denied',
          targetType: 'User',
          targetId: row.userId,
          reason: 'a spent refresh token was presented again; every token of its family is revoked',
          details: { familyId: row.familyId },
        },
        { meta, actorType: 'user', actorId: row.userId },
      );
      throw invalid;
    }
    if (row.expiresAt <= now || row.user.disabledAt) throw invalid;
    // Conditional revoke: of two concurrent refreshes with one token, exactly one wins; the
    // other is a reuse.
    const spent = await this.db.refreshToken.updateMany({
      where: { id: row.id, revokedAt: null },
      data: { revokedAt: now, revokedReason: 'rotated' },
    });
    if (spent.count !== 1) {
      await this.revokeFamily(row.familyId, 'reuse_detected');
      throw invalid;
    }
    const session = await this.issueSession(row.userId, row.familyId, meta, row.id);
    await this.audit.record(
      null,
      { action: 'auth.refresh', tenantId: null, targetType: 'User', targetId: row.userId },
      { meta, actorType: 'user', actorId: row.userId },
    );
    return session;
  }

  /** Ends a session: revokes the refresh token's family. Access tokens expire on their own. */
  async logout(token: string, meta: RequestMeta): Promise<boolean> {
    if (!isRefreshToken(token)) return false;
    const row = await this.db.refreshToken.findUnique({
      where: { tokenHash: new Uint8Array(sha256(token)) },
    });
    if (!row) return false;
    await this.revokeFamily(row.familyId, 'logout');
    await this.audit.record(
      null,
      { action: 'auth.logout', tenantId: null, targetType: 'User', targetId: row.userId },
      { meta, actorType: 'user', actorId: row.userId },
    );
    return true;
  }

  private async revokeFamily(familyId: string, reason: string): Promise<void> {
    await this.db.refreshToken.updateMany({
      where: { familyId, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: reason },
    });
  }

  /**
   * Changes the caller's own password after checking the current one, and signs out every
   * other session (all refresh tokens are revoked).
   */
  async changePassword(actor: Actor, current: string, next: string): Promise<void> {
    const problems = passwordProblems(next).map((p) => `newPassword: ${p}`);
    if (problems.length > 0) throw badInput(`invalid password: ${problems.join('; ')}`, problems);
    const user = await this.db.user.findUnique({ where: { id: actor.id } });
    const ok = await verifyPasswordOrDummy(user?.passwordHash, current);
    if (!user || !ok) {
      await this.audit.record(actor, {
        action: 'user.password_change',
        tenantId: null,
        outcome: 'failure',
        targetType: 'User',
        targetId: actor.id,
        reason: 'current password did not verify',
      });
      throw unauthenticated('the current password is not correct');
    }
    await this.db.$transaction([
      this.db.user.update({
        where: { id: user.id },
        data: { passwordHash: await hashPassword(next) },
      }),
      this.db.refreshToken.updateMany({
        where: { userId: user.id, revokedAt: null },
        data: { revokedAt: new Date(), revokedReason: 'password_change' },
      }),
    ]);
    await this.audit.record(actor, {
      action: 'user.password_change',
      tenantId: null,
      targetType: 'User',
      targetId: user.id,
      fields: ['password'],
    });
  }

  /**
   * The actor behind a bearer token: a user's access JWT or a service token. Memberships are
   * read on every request, so a role change or removal takes effect at once.
   */
  async authenticate(bearer: string, meta: RequestMeta): Promise<Actor> {
    if (parseServiceToken(bearer)) return this.authenticateServiceToken(bearer, meta);
    let userId: string;
    try {
      userId = verifyJwt(bearer, this.config.adminJwtSecret, {
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      }).sub;
    } catch (err) {
      throw unauthenticated(
        err instanceof JwtError && err.reason === 'expired'
          ? 'access token expired: refresh it or sign in again'
          : 'invalid access token',
      );
    }
    const user = await this.db.user.findUnique({
      where: { id: userId },
      include: { memberships: { select: { tenantId: true, role: true } } },
    });
    if (!user || user.disabledAt || user.isServiceAccount) {
      throw unauthenticated('invalid access token');
    }
    return this.actorOf('user', user, meta);
  }

  private async authenticateServiceToken(token: string, meta: RequestMeta): Promise<Actor> {
    const row = await this.db.serviceToken.findUnique({
      where: { tokenHash: new Uint8Array(sha256(token)) },
      include: {
        user: { include: { memberships: { select: { tenantId: true, role: true } } } },
      },
    });
    const now = new Date();
    if (!row) throw unauthenticated('invalid service token');
    if (row.revokedAt) throw unauthenticated('service token revoked');
    if (row.expiresAt && row.expiresAt <= now) throw unauthenticated('service token expired');
    if (row.user.disabledAt) throw unauthenticated('service account disabled');
    // Best effort, at most once a minute: an idle token's last use, not an access log.
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
      void this.db.serviceToken
        .update({ where: { id: row.id }, data: { lastUsedAt: now } })
        .catch(() => undefined);
    }
    return this.actorOf('service', row.user, meta, row.id);
  }

  private actorOf(
    kind: 'user' | 'service',
    user: {
      id: string;
      email: string;
      isPlatformAdmin: boolean;
      memberships: { tenantId: string; role: TenantRole }[];
    },
    meta: RequestMeta,
    tokenId?: string,
  ): Actor {
    const base = {
      id: user.id,
      isPlatformAdmin: user.isPlatformAdmin,
      memberships: user.memberships.map((m) => ({ tenantId: m.tenantId, role: m.role })),
    };
    return {
      kind,
      ...base,
      email: user.email,
      ability: defineAbilityFor(base),
      meta,
      ...(tokenId ? { tokenId } : {}),
    };
  }

  /**
   * A service account holding `role` in `tenantId`, and its token (returned once). Only an
   * owner (or a platform admin) may create an owner-level token.
   */
  async createServiceToken(
    actor: Actor,
    input: { tenantId: string; name: string; role: TenantRole; expiresInDays?: number | null },
  ): Promise<IssuedServiceToken> {
    const problems: string[] = [];
    const name = input.name.trim();
    if (name === '' || name.length > 100) problems.push('name: 1 to 100 characters');
    if (
      input.expiresInDays !== undefined &&
      input.expiresInDays !== null &&
      (!Number.isInteger(input.expiresInDays) ||
        input.expiresInDays < 1 ||
        input.expiresInDays > SERVICE_TOKEN_MAX_DAYS)
    ) {
      problems.push(`expiresInDays: a whole number of days, 1..${SERVICE_TOKEN_MAX_DAYS}`);
    }
    if (problems.length > 0)
      throw badInput(`invalid service token: ${problems.join('; ')}`, problems);
    if (!mayGrant(actor, input.tenantId, input.role)) {
      throw await this.audit.denied(actor, {
        tenantId: input.tenantId,
        message: OWNER_ONLY,
        operation: 'createServiceToken',
        targetType: 'ServiceToken',
      });
    }
    const tenant = await this.db.tenant.findUnique({ where: { id: input.tenantId } });
    if (!tenant) throw notFound(`tenant ${input.tenantId} not found`);

    const minted = mintServiceToken();
    const expiresAt = input.expiresInDays
      ? new Date(Date.now() + input.expiresInDays * 86400_000)
      : null;
    const issued = await this.db.$transaction(async (tx) => {
      const user = await tx.user.create({
        data: {
          email: `svc-${minted.id}@${tenant.slug}.service.custodian.invalid`,
          displayName: name,
          isServiceAccount: true,
          memberships: { create: { tenantId: tenant.id, role: input.role } },
        },
      });
      await tx.serviceToken.create({
        data: {
          id: minted.id,
          userId: user.id,
          tenantId: tenant.id,
          name,
          tokenHash: new Uint8Array(minted.hash),
          createdBy: actor.id,
          expiresAt,
        },
      });
      return { userId: user.id };
    });
    await this.audit.record(actor, {
      action: 'service_token.create',
      tenantId: tenant.id,
      targetType: 'ServiceToken',
      targetId: minted.id,
      details: { name, role: input.role, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return {
      id: minted.id,
      token: minted.token,
      userId: issued.userId,
      tenantId: tenant.id,
      name,
      role: input.role,
      expiresAt,
    };
  }

  async revokeServiceToken(actor: Actor, tenantId: string, id: string): Promise<Date> {
    const row = await this.db.serviceToken.findFirst({
      where: { id, tenantId },
      include: { user: { include: { memberships: { where: { tenantId } } } } },
    });
    if (!row) throw notFound(`service token ${id} not found in tenant ${tenantId}`);
    const role = row.user.memberships[0]?.role;
    if (role && !mayGrant(actor, tenantId, role)) {
      throw await this.audit.denied(actor, {
        tenantId,
        message: OWNER_ONLY,
        operation: 'revokeServiceToken',
        targetType: 'ServiceToken',
        targetId: id,
      });
    }
    const revokedAt = row.revokedAt ?? new Date();
    if (!row.revokedAt) {
      await this.db.serviceToken.update({ where: { id }, data: { revokedAt } });
    }
    await this.audit.record(actor, {
      action: 'service_token.revoke',
      tenantId,
      targetType: 'ServiceToken',
      targetId: id,
      details: { alreadyRevoked: !!row.revokedAt },
    });
    return revokedAt;
  }

  listServiceTokens(tenantId: string) {
    return this.db.serviceToken.findMany({
      where: { tenantId },
      include: { user: { include: { memberships: { where: { tenantId } } } } },
      orderBy: { createdAt: 'desc' },
    });
  }
}

export const OWNER_ONLY = 'only an owner of the tenant may grant, change or remove the owner role';

/**
 * Whether `actor` may grant (or take away) `role` in the tenant: the owner role only by owners
 * and platform admins. The guard has already checked the membership permission itself.
 */
export function mayGrant(actor: Actor, tenantId: string, role: TenantRole): boolean {
  if (role !== 'owner' || actor.isPlatformAdmin) return true;
  return actor.memberships.find((m) => m.tenantId === tenantId)?.role === 'owner';
}
