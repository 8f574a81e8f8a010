/**
 * CLI commands that go through the admin API (issue #6 item 6): `login`, `whoami`, `tenants`
 * and `keys`. Human output by default, `--json` for scripts; errors exit non-zero with the
 * API's message (FORBIDDEN, BAD_USER_INPUT problems…).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError, login, saveSession, sessionFile } from './api-client';

export function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function table(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    out('(none)');
    return;
  }
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) =>
    out(
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  line(columns);
  for (const r of rows) line(columns.map((c) => cell(r[c])));
}

function readPassword(file: string | undefined): string {
  if (file) return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (process.env.CUSTODIAN_PASSWORD) return process.env.CUSTODIAN_PASSWORD;
  throw new ApiError('give the password with --password-file <path> or CUSTODIAN_PASSWORD');
}

const TENANT_FIELDS = 'id slug name status';
const KEY_FIELDS = 'id name preview signals createdAt expiresAt revokedAt';

export async function tenantIdOf(api: ApiClient, ref: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/i.test(ref)) return ref;
  const data = await api.request<{ tenants: { id: string; slug: string }[] }>(
    `{ tenants { id slug } }`,
  );
  const t = data.tenants.find((x) => x.slug === ref);
  if (!t) throw new ApiError(`no tenant "${ref}" that you may see`);
  return t.id;
}

export const API_USAGE = `  custodian login --url <http://host:4000/graphql> --email <email> [--password-file <path>]
  custodian whoami [--json]
  custodian tenants list [--json]
  custodian tenants create --slug <slug> [--name <name>] [--json]
  custodian keys list --tenant <slug|id> [--json]
  custodian keys create --tenant <slug|id> [--name <name>] [--signals traces,logs] [--expires-days <n>] [--json]
  custodian keys revoke --tenant <slug|id> --id <key id> [--json]
  custodian audit export [--tenant <slug|id>] [--action <name or prefix.>] [--limit <n>]   (JSON lines)
  custodian audit verify [--tenant <slug|id>] [--json]`;

export async function runApiCommand(command: string, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      email: { type: 'string' },
      'password-file': { type: 'string' },
      json: { type: 'boolean', default: false },
      slug: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      id: { type: 'string' },
      signals: { type: 'string' },
      'expires-days': { type: 'string' },
      action: { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const json = values.json === true;
  const print = (data: unknown, human: () => void) => (json ? out(JSON.stringify(data)) : human());
  try {
    if (command === 'login') {
      if (!values.url || !values.email)
        throw new ApiError(`usage:\n${API_USAGE.split('\n')[0]}`, 'USAGE');
      const s = await login(values.url, values.email, readPassword(values['password-file']));
      saveSession(s);
      print({ email: s.email, url: s.url, sessionFile: sessionFile() }, () =>
        out(`signed in as ${s.email} at ${s.url} (session saved to ${sessionFile()})`),
      );
      return 0;
    }
    const api = ApiClient.fromEnvironment(process.env, values.url);
    const sub = positionals[0];
    if (command === 'whoami') {
      const d = await api.request<{
        me: {
          email: string;
          isPlatformAdmin: boolean;
          memberships: { tenantSlug: string; role: string }[];
        };
      }>(
        `{ me { email isPlatformAdmin isServiceAccount memberships { tenantId tenantSlug role } } }`,
      );
      print(d.me, () => {
        out(`${d.me.email}${d.me.isPlatformAdmin ? ' (platform admin)' : ''}`);
        for (const m of d.me.memberships) out(`  ${m.tenantSlug}: ${m.role}`);
      });
      return 0;
    }
    if (command === 'tenants' && sub === 'list') {
      const d = await api.request<{ tenants: Record<string, unknown>[] }>(
        `{ tenants { ${TENANT_FIELDS} } }`,
      );
      print(d.tenants, () => table(d.tenants, ['slug', 'name', 'status', 'id']));
      return 0;
    }
    if (command === 'tenants' && sub === 'create' && values.slug) {
      const d = await api.request<{ createTenant: Record<string, unknown> }>(
        `mutation($i: CreateTenantInput!) { createTenant(input: $i) { ${TENANT_FIELDS} } }`,
        { i: { slug: values.slug, name: values.name ?? values.slug } },
      );
      print(d.createTenant, () =>
        out(`tenant ${d.createTenant.slug} created (id ${d.createTenant.id})`),
      );
      return 0;
    }
    if (command === 'keys' && values.tenant && ['list', 'create', 'revoke'].includes(sub ?? '')) {
      const tenantId = await tenantIdOf(api, values.tenant);
      if (sub === 'list') {
        const d = await api.request<{ apiKeys: Record<string, unknown>[] }>(
          `query($t: ID!) { apiKeys(tenantId: $t, includeRevoked: true) { ${KEY_FIELDS} } }`,
          { t: tenantId },
        );
        print(d.apiKeys, () =>
          table(d.apiKeys, ['id', 'name', 'signals', 'expiresAt', 'revokedAt']),
        );
        return 0;
      }
      if (sub === 'create') {
        const days =
          values['expires-days'] !== undefined ? Number(values['expires-days']) : undefined;
        const d = await api.request<{
          createApiKey: { key: string; apiKey: Record<string, unknown> };
        }>(
          `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { ${KEY_FIELDS} } } }`,
          {
            i: {
              tenantId,
              name: values.name ?? 'cli',
              signals: values.signals ? values.signals.split(',').map((s) => s.trim()) : [],
              expiresInDays: days,
            },
          },
        );
        print(d.createApiKey, () => {
          out(d.createApiKey.key);
          process.stderr.write('This key is shown once; store it now.\n');
        });
        return 0;
      }
      if (values.id) {
        const d = await api.request<{ revokeApiKey: Record<string, unknown> }>(
          `mutation($t: ID!, $id: ID!) { revokeApiKey(tenantId: $t, id: $id) { ${KEY_FIELDS} } }`,
          { t: tenantId, id: values.id },
        );
        print(d.revokeApiKey, () =>
          out(`key ${values.id} revoked at ${String(d.revokeApiKey.revokedAt)}`),
        );
        return 0;
      }
    }
    if (command === 'audit' && (sub === 'export' || sub === 'verify')) {
      const tenantId = values.tenant ? await tenantIdOf(api, values.tenant) : null;
      if (sub === 'export') {
        const d = await api.request<{ exportAuditEvents: string }>(
          `query($f: AuditEventFilter!, $n: Int!) { exportAuditEvents(filter: $f, limit: $n) }`,
          {
            f: { tenantId, action: values.action ?? null },
            n: values.limit !== undefined ? Number(values.limit) : 1000,
          },
        );
        if (d.exportAuditEvents !== '') out(d.exportAuditEvents);
        return 0;
      }
      const d = await api.request<{
        verifyAuditChain: {
          ok: boolean;
          checked: number;
          firstBrokenSeq: string | null;
          reason: string | null;
        };
      }>(`query($t: ID) { verifyAuditChain(tenantId: $t) { ok checked firstBrokenSeq reason } }`, {
        t: tenantId,
      });
      const v = d.verifyAuditChain;
      print(v, () =>
        out(
          v.ok
            ? `audit chain intact (${v.checked} events)`
            : `audit chain BROKEN at seq ${v.firstBrokenSeq}: ${v.reason}`,
        ),
      );
      return v.ok ? 0 : 3;
    }
    process.stderr.write(`usage:\n${API_USAGE}\n`);
    return 2;
  } catch (err) {
    if (err instanceof ApiError) {
      process.stderr.write(
        `custodian ${command}: ${err.message}${err.code && err.code !== 'USAGE' ? ` (${err.code})` : ''}\n`,
      );
      return err.code === 'USAGE' ? 2 : 1;
    }
    throw err;
  }
}
