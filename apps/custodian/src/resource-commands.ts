/**
 * CLI commands for a tenant's policies, sinks and dead letters (issue #6 item 6). Like every
 * API command they go through the admin GraphQL API, so RBAC and audit apply exactly as in the
 * console; the tenant is addressed by slug (or id) and resolved through the API, a sink by name
 * (or id). Human output by default, `--json` for scripts; an error exits non-zero with the
 * API's message and code. Secrets are read from files only (`--secret-file`), never from the
 * command line, where shell history and `ps` would keep them.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError } from './api-client';
import { out, table, tenantIdOf } from './api-commands';

export const RESOURCE_USAGE = `  custodian policies list --tenant <slug> [--json]
  custodian policies show --tenant <slug> [--version <n>] [--json]
  custodian policies diff --tenant <slug> --from <n> [--to <n>] [--json]
  custodian policies apply <file> --tenant <slug> [--format json|yaml|collector] [--comment <text>] [--activate] [--json]
  custodian policies dry-run [<file>] --tenant <slug> --payload <otlp.json> [--format …] [--version <n>] [--json]
  custodian policies activate <version> --tenant <slug> [--json]
  custodian policies rollback --tenant <slug> [--to <version>] [--json]
  custodian sinks list --tenant <slug> [--json]
  custodian sinks create --tenant <slug> --name <name> --kind otlphttp|otlpgrpc|zipkin|kafka|store [--config '<json>'|--config-file <path>] [--secret-file <path>] [--disabled] [--json]
  custodian sinks update <name> --tenant <slug> [--name <new>] [--config '<json>'|--config-file <path>] [--secret-file <path>] [--clear-secret] [--enable|--disable] [--json]
  custodian sinks test <name> --tenant <slug> [--json]          (exit 3 when the sink fails)
  custodian sinks delete <name> --tenant <slug> [--json]
  custodian dead-letters list --tenant <slug> --sink <name> [--limit <n>] [--after <cursor>] [--json]
  custodian dead-letters redrive|purge --tenant <slug> --sink <name> [--ids <id,id…>] [--json]`;

const POLICY_FIELDS = 'id version checksum format comment createdAt active';
const SINK_FIELDS =
  'id name kind configJson hasSecret secretKeys enabled clearedForRestricted updatedAt';

type Values = Record<string, string | boolean | undefined>;
type Row = Record<string, unknown>;

function usage(message: string): ApiError {
  return new ApiError(`${message}\nusage:\n${RESOURCE_USAGE}`, 'USAGE');
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function need(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined) throw usage(`--${name} is required`);
  return v;
}

function int(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw usage(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ApiError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

/** json, yaml or collector: the flag, else the file's extension (yaml for .yml/.yaml). */
function policyFormat(values: Values, file: string): 'JSON' | 'YAML' | 'COLLECTOR' {
  const flag = str(values, 'format');
  if (flag !== undefined) {
    const f = flag.toUpperCase();
    if (f !== 'JSON' && f !== 'YAML' && f !== 'COLLECTOR')
      throw usage(`--format must be json, yaml or collector, got "${flag}"`);
    return f;
  }
  return extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
}

/** The non-secret settings: --config (JSON text) or --config-file; undefined when neither. */
function sinkConfig(values: Values): string | undefined {
  const text =
    str(values, 'config') ??
    (str(values, 'config-file') && readText(need(values, 'config-file'), 'config file'));
  if (text === undefined) return undefined;
  try {
    JSON.parse(text);
  } catch (err) {
    throw usage(`the sink config is not valid JSON: ${(err as Error).message}`);
  }
  return text;
}

async function sinkIdOf(api: ApiClient, tenantId: string, ref: string): Promise<string> {
  const d = await api.request<{ sinks: { id: string; name: string }[] }>(
    `query($t: ID!) { sinks(tenantId: $t) { id name } }`,
    { t: tenantId },
  );
  const s = d.sinks.find((x) => x.name === ref || x.id === ref);
  if (!s) throw new ApiError(`the tenant has no sink "${ref}" that you may see`, 'NOT_FOUND');
  return s.id;
}

function printPolicyVersion(v: Row): void {
  out(
    `version ${String(v.version)}${v.active ? ' (active)' : ''}  ${String(v.format)}  ${String(v.checksum).slice(0, 12)}  ${String(v.createdAt)}${v.comment ? `  ${String(v.comment)}` : ''}`,
  );
}

async function policies(
  api: ApiClient,
  sub: string | undefined,
  args: string[],
  values: Values,
  print: (data: unknown, human: () => void) => void,
): Promise<number> {
  const tenantId = await tenantIdOf(api, need(values, 'tenant'));
  switch (sub) {
    case 'list': {
      const d = await api.request<{
        policyVersions: { items: Row[]; total: number; activeVersion: number | null };
      }>(
        `query($t: ID!) { policyVersions(tenantId: $t, limit: 100) { total activeVersion items { ${POLICY_FIELDS} } } }`,
        { t: tenantId },
      );
      print(d.policyVersions, () => {
        table(
          d.policyVersions.items.map((v) => ({ ...v, active: v.active ? 'yes' : '' })),
          ['version', 'active', 'format', 'createdAt', 'comment'],
        );
        if (d.policyVersions.activeVersion === null) out('(the platform default policy applies)');
      });
      return 0;
    }
    case 'show': {
      const d = await api.request<{ policyVersion: Row }>(
        `query($t: ID!, $v: Int) { policyVersion(tenantId: $t, version: $v) { ${POLICY_FIELDS} source documentJson } }`,
        { t: tenantId, v: int(str(values, 'version'), '--version') ?? null },
      );
      print(d.policyVersion, () => {
        printPolicyVersion(d.policyVersion);
        out('');
        out(String(d.policyVersion.source).trimEnd());
      });
      return 0;
    }
    case 'diff': {
      const d = await api.request<{
        policyDiff: { identical: boolean; unified: string; changes: Row[] };
      }>(
        `query($t: ID!, $f: Int!, $to: Int) { policyDiff(tenantId: $t, fromVersion: $f, toVersion: $to) { fromVersion toVersion identical unified changes { path change before after } } }`,
        {
          t: tenantId,
          f: int(need(values, 'from'), '--from'),
          to: int(str(values, 'to'), '--to') ?? null,
        },
      );
      print(d.policyDiff, () =>
        out(d.policyDiff.identical ? '(identical)' : d.policyDiff.unified.trimEnd()),
      );
      return 0;
    }
    case 'apply': {
      const file = args[0];
      if (!file) throw usage('policies apply needs a <file>');
      const d = await api.request<{
        submitPolicy: { version: Row; created: boolean; message: string; warnings: Row[] };
      }>(
        `mutation($i: SubmitPolicyInput!) { submitPolicy(input: $i) { created message warnings { path message } version { ${POLICY_FIELDS} } } }`,
        {
          i: {
            tenantId,
            source: readText(file, 'policy file'),
            format: policyFormat(values, file),
            comment: str(values, 'comment') ?? null,
          },
        },
      );
      const submitted = d.submitPolicy;
      let activation: { message: string; changed: boolean } | undefined;
      if (values.activate === true) {
        const a = await api.request<{ activatePolicy: { message: string; changed: boolean } }>(
          `mutation($t: ID!, $v: Int!) { activatePolicy(tenantId: $t, version: $v) { changed message } }`,
          { t: tenantId, v: submitted.version.version },
        );
        activation = a.activatePolicy;
      }
      print({ ...submitted, ...(activation ? { activation } : {}) }, () => {
        out(submitted.message);
        for (const w of submitted.warnings)
          out(`  warning: ${String(w.path)}: ${String(w.message)}`);
        if (activation) out(activation.message);
      });
      return 0;
    }
    case 'dry-run': {
      const payloadFile = need(values, 'payload');
      const payload = readText(payloadFile, 'payload');
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(payload) as Record<string, unknown>;
      } catch (err) {
        throw usage(`the payload is not valid JSON: ${(err as Error).message}`);
      }
      const signal =
        'resourceLogs' in parsed ? 'logs' : 'resourceMetrics' in parsed ? 'metrics' : 'traces';
      const file = args[0];
      const d = await api.request<{ policyDryRun: Record<string, unknown> }>(
        `query($i: PolicyDryRunInput!) { policyDryRun(input: $i) {
          policySource version policyHash input { spans logRecords dataPoints }
          sinks { sink delivered exists enabled kind spans logRecords dataPoints }
          traceDecisions { traceId sampled reason policy cause spanCount }
          discarded { signal reason count }
          redaction { signal rule action count }
          attributeChanges { signal target key change count }
          warnings { path message } } }`,
        {
          i: {
            tenantId,
            ...(file
              ? { source: readText(file, 'policy file'), format: policyFormat(values, file) }
              : {}),
            version: int(str(values, 'version'), '--version') ?? null,
            [signal]: payload,
          },
        },
      );
      const r = d.policyDryRun as {
        policySource: string;
        version: number | null;
        input: Row;
        sinks: Row[];
        discarded: Row[];
        redaction: Row[];
        traceDecisions: Row[];
      };
      print(r, () => {
        out(
          `policy: ${r.policySource}${r.version !== null ? ` ${r.version}` : ''}; input: ${String(r.input.spans)} spans, ${String(r.input.logRecords)} log records, ${String(r.input.dataPoints)} data points`,
        );
        out('sinks:');
        table(r.sinks, ['sink', 'delivered', 'kind', 'spans', 'logRecords', 'dataPoints']);
        if (r.traceDecisions.length) {
          out('trace decisions:');
          table(r.traceDecisions, ['traceId', 'sampled', 'reason', 'policy']);
        }
        if (r.discarded.length) {
          out('discarded:');
          table(r.discarded, ['signal', 'reason', 'count']);
        }
        if (r.redaction.length) {
          out('redaction:');
          table(r.redaction, ['signal', 'rule', 'action', 'count']);
        }
      });
      return 0;
    }
    case 'activate':
    case 'rollback': {
      const version = sub === 'activate' ? int(args[0], '<version>') : undefined;
      if (sub === 'activate' && version === undefined)
        throw usage('policies activate needs a <version>');
      const d =
        sub === 'activate'
          ? (
              await api.request<{ activatePolicy: Row }>(
                `mutation($t: ID!, $v: Int!) { activatePolicy(tenantId: $t, version: $v) { changed message previousVersion version { version } } }`,
                { t: tenantId, v: version },
              )
            ).activatePolicy
          : (
              await api.request<{ rollbackPolicy: Row }>(
                `mutation($t: ID!, $to: Int) { rollbackPolicy(tenantId: $t, toVersion: $to) { changed message previousVersion version { version } } }`,
                { t: tenantId, to: int(str(values, 'to'), '--to') ?? null },
              )
            ).rollbackPolicy;
      print(d, () => out(String(d.message)));
      return 0;
    }
    default:
      throw usage(`unknown policies command "${sub ?? ''}"`);
  }
}

async function sinks(
  api: ApiClient,
  sub: string | undefined,
  args: string[],
  values: Values,
  print: (data: unknown, human: () => void) => void,
): Promise<number> {
  const tenantId = await tenantIdOf(api, need(values, 'tenant'));
  const secretFile = str(values, 'secret-file');
  const secretJson = secretFile ? readText(secretFile, 'secret file') : undefined;
  if (values.enable === true && values.disable === true)
    throw usage('--enable and --disable exclude each other');
  switch (sub) {
    case 'list': {
      const d = await api.request<{ sinks: Row[] }>(
        `query($t: ID!) { sinks(tenantId: $t) { ${SINK_FIELDS} } }`,
        { t: tenantId },
      );
      print(d.sinks, () =>
        table(d.sinks, ['name', 'kind', 'enabled', 'hasSecret', 'configJson', 'id']),
      );
      return 0;
    }
    case 'create': {
      const d = await api.request<{ createSink: Row }>(
        `mutation($i: CreateSinkInput!) { createSink(input: $i) { ${SINK_FIELDS} } }`,
        {
          i: {
            tenantId,
            name: need(values, 'name'),
            kind: need(values, 'kind'),
            configJson: sinkConfig(values) ?? null,
            secretJson: secretJson ?? null,
            enabled: values.disabled !== true,
          },
        },
      );
      print(d.createSink, () =>
        out(`sink ${String(d.createSink.name)} created (id ${String(d.createSink.id)})`),
      );
      return 0;
    }
    case 'update': {
      if (!args[0]) throw usage('sinks update needs a <name>');
      const sinkId = await sinkIdOf(api, tenantId, args[0]);
      const d = await api.request<{ updateSink: Row }>(
        `mutation($i: UpdateSinkInput!) { updateSink(input: $i) { ${SINK_FIELDS} } }`,
        {
          i: {
            tenantId,
            sinkId,
            name: str(values, 'name') ?? null,
            configJson: sinkConfig(values) ?? null,
            secretJson: secretJson ?? null,
            clearSecret: values['clear-secret'] === true ? true : null,
            enabled: values.enable === true ? true : values.disable === true ? false : null,
          },
        },
      );
      print(d.updateSink, () => out(`sink ${String(d.updateSink.name)} updated`));
      return 0;
    }
    case 'test': {
      if (!args[0]) throw usage('sinks test needs a <name>');
      const sinkId = await sinkIdOf(api, tenantId, args[0]);
      const d = await api.request<{
        testSinkConnectivity: { ok: boolean; status: string; message: string; latencyMs: number };
      }>(
        `mutation($t: ID!, $s: ID!) { testSinkConnectivity(tenantId: $t, sinkId: $s) { ok latencyMs signal status message retryable } }`,
        { t: tenantId, s: sinkId },
      );
      const r = d.testSinkConnectivity;
      print(r, () =>
        out(`${r.ok ? 'ok' : `FAILED (${r.status})`}: ${r.message} (${r.latencyMs} ms)`),
      );
      return r.ok ? 0 : 3;
    }
    case 'delete': {
      if (!args[0]) throw usage('sinks delete needs a <name>');
      const sinkId = await sinkIdOf(api, tenantId, args[0]);
      await api.request<{ deleteSink: boolean }>(
        `mutation($t: ID!, $s: ID!) { deleteSink(tenantId: $t, sinkId: $s) }`,
        { t: tenantId, s: sinkId },
      );
      print({ deleted: sinkId }, () => out(`sink ${args[0]} deleted`));
      return 0;
    }
    default:
      throw usage(`unknown sinks command "${sub ?? ''}"`);
  }
}

async function deadLetters(
  api: ApiClient,
  sub: string | undefined,
  values: Values,
  print: (data: unknown, human: () => void) => void,
): Promise<number> {
  if (sub !== 'list' && sub !== 'redrive' && sub !== 'purge')
    throw usage(`unknown dead-letters command "${sub ?? ''}"`);
  const tenantId = await tenantIdOf(api, need(values, 'tenant'));
  const sinkName = need(values, 'sink');
  const sinkId = await sinkIdOf(api, tenantId, sinkName);
  if (sub === 'list') {
    const d = await api.request<{
      deadLetters: {
        entries: Row[];
        nextCursor: string | null;
        total: number;
        retryQueue: number;
        dropped: number;
      };
    }>(
      `query($t: ID!, $s: ID!, $n: Int, $a: String) { deadLetters(tenantId: $t, sinkId: $s, first: $n, after: $a) {
        entries { id signal items reason error firstFailedAt deadLetteredAt attempts }
        nextCursor total retryQueue dropped } }`,
      {
        t: tenantId,
        s: sinkId,
        n: int(str(values, 'limit'), '--limit') ?? null,
        a: str(values, 'after') ?? null,
      },
    );
    const p = d.deadLetters;
    print(p, () => {
      table(p.entries, ['id', 'signal', 'items', 'reason', 'attempts', 'deadLetteredAt', 'error']);
      out(
        `${p.total} dead letter(s), ${p.retryQueue} batch(es) in the retry queue, ${p.dropped} dropped${p.nextCursor ? `; next page: --after ${p.nextCursor}` : ''}`,
      );
    });
    return 0;
  }
  const idsRaw = str(values, 'ids');
  const ids = idsRaw
    ? idsRaw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
  const field = sub === 'redrive' ? 'redriveDeadLetters' : 'purgeDeadLetters';
  const d = await api.request<Record<string, number>>(
    `mutation($t: ID!, $s: ID!, $ids: [ID!]) { ${field}(tenantId: $t, sinkId: $s, ids: $ids) }`,
    { t: tenantId, s: sinkId, ids },
  );
  const n = d[field];
  print({ [sub === 'redrive' ? 'redriven' : 'purged']: n }, () =>
    out(
      sub === 'redrive'
        ? `${n} dead letter(s) of ${sinkName} queued for redelivery`
        : `${n} dead letter(s) of ${sinkName} purged`,
    ),
  );
  return 0;
}

export async function runResourceCommand(command: string, argv: string[]): Promise<number> {
  try {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(argv);
    } catch (err) {
      throw usage((err as Error).message);
    }
    const { values, positionals } = parsed;
    const json = values.json === true;
    const print = (data: unknown, human: () => void) =>
      json ? out(JSON.stringify(data)) : human();
    const api = ApiClient.fromEnvironment(process.env, str(values, 'url'));
    const [sub, ...args] = positionals;
    if (command === 'policies') return await policies(api, sub, args, values, print);
    if (command === 'sinks') return await sinks(api, sub, args, values, print);
    return await deadLetters(api, sub, values, print);
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

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
      tenant: { type: 'string' },
      version: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      comment: { type: 'string' },
      activate: { type: 'boolean' },
      payload: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      config: { type: 'string' },
      'config-file': { type: 'string' },
      'secret-file': { type: 'string' },
      'clear-secret': { type: 'boolean' },
      disabled: { type: 'boolean' },
      enable: { type: 'boolean' },
      disable: { type: 'boolean' },
      sink: { type: 'string' },
      ids: { type: 'string' },
      limit: { type: 'string' },
      after: { type: 'string' },
    },
  });
}
