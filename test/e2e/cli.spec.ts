/**
 * The operator commands of the built CLI against the real database: a tenant and its first key
 * from a shell, the key shown once and stored only as a keyed hash, and `demo` reusing a live
 * key instead of minting a new one on every run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseApiKey, verifyApiKeySecret } from '@custodian/auth';
import {
  ApiKeyRepository,
  TenantRepository,
  createPrismaClient,
  type PrismaClient,
} from '@custodian/db';
import { CLI, REPO_ROOT } from '../support/custodian-process';

const PEPPER = 'e2e-cli-pepper-0123456789abcdef0123456789';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CUSTODIAN_API_KEY_PEPPER: PEPPER },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

let db: PrismaClient;
beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
});
afterAll(() => db.$disconnect());

describe('custodian tenant / apikey', () => {
  it('creates a tenant and a signal-limited key that verifies against the stored hash', async () => {
    const slug = `cli-${randomBytes(4).toString('hex')}`;
    const created = cli('tenant', 'create', '--slug', slug, '--name', 'CLI tenant');
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(new RegExp(`^tenant ${slug} created \\(id [0-9a-f-]{36}\\)$`));
    expect(cli('tenant', 'create', '--slug', slug)).toMatchObject({
      code: 1,
      stderr: `custodian tenant: a tenant with slug "${slug}" already exists`,
    });

    const key = cli(
      'apikey',
      'create',
      '--tenant',
      slug,
      '--signals',
      'traces,logs',
      '--expires-days',
      '30',
    );
    expect(key.code).toBe(0);
    expect(key.stderr).toBe('This key is shown once; store it now.');
    const parsed = parseApiKey(key.stdout)!;
    expect(parsed).not.toBeNull();

    const tenant = (await new TenantRepository(db).findBySlug(slug))!;
    const row = (await new ApiKeyRepository(db).findInTenant(tenant.id, parsed.id))!;
    expect(row.signals).toEqual(['traces', 'logs']);
    expect(row.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 86400_000);
    expect(verifyApiKeySecret(parsed.secret, row.secretHash, PEPPER)).toBe(true);
  });

  it('explains bad input without a stack trace', () => {
    expect(cli('apikey', 'create', '--tenant', 'no-such-tenant-here')).toMatchObject({
      code: 1,
      stderr: 'custodian apikey: no tenant with slug "no-such-tenant-here"',
    });
    const slugless = cli('tenant', 'create');
    expect(slugless.code).toBe(2);
    expect(slugless.stderr).toContain('usage: custodian tenant create');
    expect(cli('frobnicate').code).toBe(2);
  });
});

describe('custodian demo', () => {
  it('ensures the demo tenant and reuses a live key from the key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custodian-demo-'));
    const keyFile = join(dir, 'demo-api-key');
    const first = cli('demo', '--key-file', keyFile);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as { tenant: string; apiKey: string };
    expect(a.tenant).toBe('demo');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(a.apiKey);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const second = JSON.parse(cli('demo', '--key-file', keyFile).stdout) as { apiKey: string };
    expect(second.apiKey).toBe(a.apiKey);

    // Once the key is revoked, demo mints a fresh one rather than handing out a dead key.
    const tenant = (await new TenantRepository(db).findBySlug('demo'))!;
    await new ApiKeyRepository(db).revoke(tenant.id, parseApiKey(a.apiKey)!.id);
    const third = JSON.parse(cli('demo', '--key-file', keyFile).stdout) as { apiKey: string };
    expect(third.apiKey).not.toBe(a.apiKey);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(third.apiKey);

    // A garbled key file is replaced too.
    writeFileSync(keyFile, 'not-a-key\n');
    const fourth = JSON.parse(cli('demo', '--key-file', keyFile).stdout) as { apiKey: string };
    expect(parseApiKey(fourth.apiKey)).not.toBeNull();
  });
});
