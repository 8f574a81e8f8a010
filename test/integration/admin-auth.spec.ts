/**
 * Identity (issue #6 item 1) against the real PostgreSQL and Redis: sign-in, rotating refresh
 * tokens with reuse detection, lockout after repeated failures (with the same answer for an
 * unknown email), service tokens, and every outcome in the audit log.
 */
import { randomBytes } from 'node:crypto';
import { AdminHarness, PASSWORD, code } from './admin-harness';

let h: AdminHarness;
beforeAll(async () => {
  h = await AdminHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

const LOGIN = `mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { accessToken refreshToken accessTokenExpiresAt user { id email isPlatformAdmin memberships { tenantSlug role } } }
}`;
const REFRESH = `mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }`;
const ME = `{ me { id email memberships { tenantId role } } }`;

describe('login', () => {
  it('signs in with the right password and the access token identifies the user', async () => {
    const t = await h.createTenant();
    const u = await h.createUser();
    await h.grant(u.id, t.id, 'analyst');
    const r = await h.ok<{ login: { accessToken: string; user: { id: string } } }>(LOGIN, {
      e: u.email.toUpperCase(),
      p: PASSWORD,
    });
    expect(r.login.user.id).toBe(u.id);
    expect(r.login.accessToken.split('.')).toHaveLength(3);
    const me = await h.ok<{ me: { id: string; memberships: unknown[] } }>(
      ME,
      {},
      r.login.accessToken,
    );
    expect(me.me).toEqual({
      id: u.id,
      email: u.email,
      memberships: [{ tenantId: t.id, role: 'analyst' }],
    });

    const events = await h.auditEvents({ actorId: u.id, action: 'auth.login' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', actorType: 'user', tenantId: null });
    expect(events[0].requestId).toBeTruthy();
    expect(events[0].userAgent).toBeTruthy();
  });

  it('answers an unknown email, a wrong password and no token identically', async () => {
    const u = await h.createUser();
    const unknown = await h.gql(LOGIN, {
      e: `nobody-${randomBytes(4).toString('hex')}@x.example`,
      p: PASSWORD,
    });
    const wrong = await h.gql(LOGIN, { e: u.email, p: 'not the password at all' });
    expect(code(unknown)).toBe('UNAUTHENTICATED');
    expect(unknown.errors![0].message).toBe(wrong.errors![0].message);
    expect(code(wrong)).toBe('UNAUTHENTICATED');
    expect(code(await h.gql(ME))).toBe('UNAUTHENTICATED');
    expect(code(await h.gql(ME, {}, 'not-a-token'))).toBe('UNAUTHENTICATED');

    const failed = await h.auditEvents({ action: 'auth.login_failed', actorId: undefined });
    const mine = failed.filter((e) => (e.details as { email?: string }).email === u.email);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ outcome: 'failure', reason: 'bad_password', targetId: u.id });
  });

  it('locks an account after 5 failures: even the right password is refused, with the same message', async () => {
    const u = await h.createUser();
    const messages = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await h.gql(LOGIN, { e: u.email, p: `wrong password ${i}` });
      expect(code(r)).toBe('UNAUTHENTICATED');
      messages.add(r.errors![0].message);
    }
    const locked = await h.gql(LOGIN, { e: u.email, p: PASSWORD });
    expect(code(locked)).toBe('UNAUTHENTICATED');
    messages.add(locked.errors![0].message);
    expect(messages.size).toBe(1);

    const row = await h.db.user.findUniqueOrThrow({ where: { id: u.id } });
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const reasons = (await h.auditEvents({ action: 'auth.login_failed' }))
      .filter((e) => e.targetId === u.id)
      .map((e) => e.reason);
    expect(reasons).toEqual([...Array(5).fill('bad_password'), 'locked']);

    // Once the lock has passed, the right password works again.
    await h.db.user.update({
      where: { id: u.id },
      data: { lockedUntil: new Date(Date.now() - 1000) },
    });
    expect((await h.login(u.email)).accessToken).toBeTruthy();
  });

  it('rate-limits attempts per client and email through Redis', async () => {
    const email = `flood-${randomBytes(4).toString('hex')}@x.example`;
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 11; i++)
      codes.push(code(await h.gql(LOGIN, { e: email, p: 'whatever-password' })));
    expect(codes.slice(0, 10).every((c) => c === 'UNAUTHENTICATED')).toBe(true);
    expect(codes[10]).toBe('TOO_MANY_REQUESTS');
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; replaying a spent one revokes the whole family', async () => {
    const u = await h.createUser();
    const first = await h.login(u.email);
    const second = (
      await h.ok<{ refresh: { accessToken: string; refreshToken: string } }>(REFRESH, {
        t: first.refreshToken,
      })
    ).refresh;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await h.ok<{ me: { id: string } }>(ME, {}, second.accessToken)).me.id).toBe(u.id);

    // The spent token again: refused, and the live successor dies with it.
    const replay = await h.gql(REFRESH, { t: first.refreshToken });
    expect(code(replay)).toBe('UNAUTHENTICATED');
    expect(code(await h.gql(REFRESH, { t: second.refreshToken }))).toBe('UNAUTHENTICATED');
    const tokens = await h.db.refreshToken.findMany({ where: { userId: u.id } });
    expect(tokens).toHaveLength(2);
    expect(tokens.every((t) => t.revokedAt !== null)).toBe(true);
    expect(tokens.map((t) => t.revokedReason).sort()).toEqual(['reuse_detected', 'rotated']);
    // Both replays (the spent token, then its revoked successor) are audited.
    expect(await h.auditEvents({ actorId: u.id, action: 'auth.refresh_reuse' })).toHaveLength(2);
  });

  it('logout revokes the session', async () => {
    const u = await h.createUser();
    const s = await h.login(u.email);
    const r = await h.ok<{ logout: boolean }>(
      `mutation($t: String!) { logout(refreshToken: $t) }`,
      { t: s.refreshToken },
    );
    expect(r.logout).toBe(true);
    expect(code(await h.gql(REFRESH, { t: s.refreshToken }))).toBe('UNAUTHENTICATED');
  });

  it('refuses tokens signed with another secret or expired', async () => {
    const { signJwt } = await import('@custodian/auth');
    const u = await h.createUser();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: u.id,
      iss: 'custodian',
      aud: 'custodian-admin',
      iat: now,
      exp: now + 600,
      jti: 'x',
    };
    const forged = signJwt(claims, 'some-other-secret-that-is-at-least-32-chars');
    expect(code(await h.gql(ME, {}, forged))).toBe('UNAUTHENTICATED');
  });
});

describe('password change', () => {
  const CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;

  it('needs the current password, validates the new one and signs out other sessions', async () => {
    const u = await h.createUser();
    const s = await h.login(u.email);
    const wrong = await h.gql(
      CHANGE,
      { c: 'not my password', n: 'a brand new password' },
      s.accessToken,
    );
    expect(code(wrong)).toBe('UNAUTHENTICATED');
    const short = await h.gql(CHANGE, { c: PASSWORD, n: 'short' }, s.accessToken);
    expect(code(short)).toBe('BAD_USER_INPUT');
    expect(short.errors![0].extensions!.problems).toEqual([
      'newPassword: password must be at least 12 characters',
    ]);
    expect(
      (
        await h.ok<{ changePassword: boolean }>(
          CHANGE,
          { c: PASSWORD, n: 'a brand new password' },
          s.accessToken,
        )
      ).changePassword,
    ).toBe(true);
    expect(code(await h.gql(REFRESH, { t: s.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(code(await h.gql(LOGIN, { e: u.email, p: PASSWORD }))).toBe('UNAUTHENTICATED');
    expect((await h.login(u.email, 'a brand new password')).accessToken).toBeTruthy();
    const outcomes = (await h.auditEvents({ actorId: u.id, action: 'user.password_change' })).map(
      (e) => e.outcome,
    );
    expect(outcomes).toEqual(['failure', 'success']);
  });
});

describe('service tokens', () => {
  const CREATE = `mutation($i: CreateServiceTokenInput!) { createServiceToken(input: $i) { token serviceToken { id role tenantId } } }`;

  it('act with their service account role until revoked', async () => {
    const t = await h.createTenant();
    const owner = await h.member(t.id, 'owner');
    const created = await h.ok<{
      createServiceToken: { token: string; serviceToken: { id: string; role: string } };
    }>(
      CREATE,
      { i: { tenantId: t.id, name: 'ci', role: 'operator', expiresInDays: 30 } },
      owner.token,
    );
    const { token, serviceToken } = created.createServiceToken;
    expect(token).toMatch(/^cust_svc_[a-z2-9]{12}_/);
    expect(serviceToken.role).toBe('operator');
    const stored = await h.db.serviceToken.findUniqueOrThrow({ where: { id: serviceToken.id } });
    expect(Buffer.from(stored.tokenHash).toString('utf8')).not.toContain(token);

    const me = await h.ok<{ me: { memberships: { role: string }[] } }>(ME, {}, token);
    expect(me.me.memberships).toEqual([{ tenantId: t.id, role: 'operator' }]);
    const keys = await h.gql(`query($t: ID!) { apiKeys(tenantId: $t) { id } }`, { t: t.id }, token);
    expect(keys.errors).toBeUndefined();

    // Listing never returns the secret.
    const list = await h.ok<{ serviceTokens: Record<string, unknown>[] }>(
      `query($t: ID!) { serviceTokens(tenantId: $t) { id name role revokedAt } }`,
      { t: t.id },
      owner.token,
    );
    expect(JSON.stringify(list)).not.toContain(token);

    await h.ok(
      `mutation($t: ID!, $id: ID!) { revokeServiceToken(tenantId: $t, id: $id) { revokedAt } }`,
      { t: t.id, id: serviceToken.id },
      owner.token,
    );
    const after = await h.gql(ME, {}, token);
    expect(code(after)).toBe('UNAUTHENTICATED');
    expect(after.errors![0].message).toBe('service token revoked');
    const actions = (await h.auditEvents({ tenantId: t.id })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['service_token.create', 'service_token.revoke']),
    );
  });

  it('only an owner may mint an owner-level token', async () => {
    const t = await h.createTenant();
    const admin = await h.member(t.id, 'admin');
    const r = await h.gql(CREATE, { i: { tenantId: t.id, name: 'x', role: 'owner' } }, admin.token);
    expect(code(r)).toBe('FORBIDDEN');
    const denied = await h.auditEvents({ actorId: admin.id, action: 'authz.denied' });
    expect(denied).toHaveLength(1);
    expect(denied[0].tenantId).toBe(t.id);
  });
});
