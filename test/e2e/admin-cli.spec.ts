/**
 * The CLI's admin commands (issue #6 item 6) with the built binary: `bootstrap` creates the first
 * platform admin directly in a brand-new database (and refuses a second time), then `login`,
 * `whoami`, `tenants` and `keys` go through the running admin API — so RBAC and audit apply —
 * with human output by default, `--json` for scripts and a non-zero exit with the API's message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { CLI, CustodianProcess, REPO_ROOT } from '../support/custodian-process';
import { freePort } from '../support/ports';

jest.setTimeout(180_000);

const base = new URL(process.env.DATABASE_URL!);
const dbName = `custodian_bootstrap_${randomBytes(4).toString('hex')}`;
const dbUrl = (() => {
  const u = new URL(base);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const dir = mkdtempSync(join(tmpdir(), 'custodian-cli-'));
const env = {
  ...process.env,
  DATABASE_URL: dbUrl,
  CUSTODIAN_SESSION_FILE: join(dir, 'session.json'),
  CUSTODIAN_LOG_LEVEL: 'warn',
};

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

let admin: PrismaClient;
let db: PrismaClient;
let proc: CustodianProcess | undefined;
let url: string;

beforeAll(async () => {
  admin = createPrismaClient(process.env.DATABASE_URL!, 1);
  await admin.$executeRawUnsafe(`CREATE DATABASE ${dbName}`);
  await new Promise<void>((resolve, reject) => {
    const p = spawn('npx', ['prisma', 'migrate', 'deploy'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: dbUrl },
      stdio: 'ignore',
    });
    p.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`migrate deploy exited ${c}`))));
  });
  db = createPrismaClient(dbUrl, 2);
});
afterAll(async () => {
  await proc?.stop('SIGTERM');
  await db?.$disconnect();
  await admin.$executeRawUnsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.$disconnect();
});

it('bootstraps the first platform admin once, then manages tenants and keys through the API', async () => {
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, 'bootstrap password 0123\n', { mode: 0o600 });
  const email = 'root@cli.example';

  const first = cli('bootstrap', '--email', email, '--password-file', pwFile);
  expect(first).toMatchObject({ code: 0 });
  expect(first.stdout).toMatch(
    /^created platform admin root@cli\.example \(user id [0-9a-f-]{36}\); audited as user\.bootstrap$/,
  );
  const again = cli('bootstrap', '--email', 'second@cli.example', '--password-file', pwFile);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(
    'custodian bootstrap: refused: a platform admin already exists (root@cli.example); sign in as them and use the API',
  );
  expect(await db.user.count({ where: { isPlatformAdmin: true } })).toBe(1);
  const [event] = await db.auditEvent.findMany();
  expect(event).toMatchObject({ action: 'user.bootstrap', actorType: 'system', tenantId: null });

  const port = await freePort();
  proc = new CustodianProcess(['start', '--target=admin'], {
    DATABASE_URL: dbUrl,
    CUSTODIAN_ADMIN_PORT: String(port),
    CUSTODIAN_OPS_PORT: String(await freePort()),
    CUSTODIAN_BIND_HOST: '127.0.0.1',
  });
  await proc.waitForLog('custodian started');
  url = `http://127.0.0.1:${port}/graphql`;

  const wrong = join(dir, 'wrong');
  writeFileSync(wrong, 'not the password at all\n');
  const bad = cli('login', '--url', url, '--email', email, '--password-file', wrong);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^custodian login: invalid email or password .*\(UNAUTHENTICATED\)$/);

  const login = cli('login', '--url', url, '--email', email, '--password-file', pwFile);
  expect(login).toMatchObject({ code: 0 });
  expect(login.stdout).toContain(`signed in as ${email}`);
  expect(statSync(env.CUSTODIAN_SESSION_FILE).mode & 0o777).toBe(0o600);

  const who = cli('whoami', '--json');
  expect(JSON.parse(who.stdout)).toMatchObject({ email, isPlatformAdmin: true, memberships: [] });

  const created = cli('tenants', 'create', '--slug', 'acme', '--name', 'Acme', '--json');
  expect(JSON.parse(created.stdout)).toMatchObject({
    slug: 'acme',
    name: 'Acme',
    status: 'active',
  });
  expect(cli('tenants', 'list').stdout).toMatch(
    /^slug\s+name\s+status\s+id\nacme\s+Acme\s+active\s+[0-9a-f-]{36}$/,
  );
  const dup = cli('tenants', 'create', '--slug', 'acme');
  expect(dup.code).toBe(1);
  expect(dup.stderr).toBe('custodian tenants: a tenant with slug "acme" already exists (CONFLICT)');

  const key = cli(
    'keys',
    'create',
    '--tenant',
    'acme',
    '--name',
    'ci',
    '--signals',
    'traces',
    '--json',
  );
  const k = JSON.parse(key.stdout) as { key: string; apiKey: { id: string } };
  expect(k.key).toMatch(/^cus_/);
  const revoked = cli('keys', 'revoke', '--tenant', 'acme', '--id', k.apiKey.id, '--json');
  expect(JSON.parse(revoked.stdout).revokedAt).toBeTruthy();
  const list = JSON.parse(cli('keys', 'list', '--tenant', 'acme', '--json').stdout) as {
    id: string;
  }[];
  expect(list.map((x) => x.id)).toEqual([k.apiKey.id]);
  expect(JSON.stringify(list)).not.toContain(k.key);

  const exported = cli('audit', 'export', '--tenant', 'acme', '--action', 'api_key.');
  expect(
    exported.stdout.split('\n').map((l) => (JSON.parse(l) as { action: string }).action),
  ).toEqual(['api_key.revoke', 'api_key.create']);
  expect(cli('audit', 'verify', '--tenant', 'acme')).toMatchObject({
    code: 0,
    stdout: expect.stringMatching(/^audit chain intact \(\d+ events\)$/),
  });

  // The CLI is audited like any API caller.
  const actions = (await db.auditEvent.findMany({ orderBy: { seq: 'asc' } })).map((e) => e.action);
  expect(actions).toEqual(
    expect.arrayContaining([
      'auth.login_failed',
      'auth.login',
      'tenant.create',
      'api_key.create',
      'api_key.revoke',
    ]),
  );
  expect(proc.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
});
