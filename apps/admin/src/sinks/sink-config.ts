/**
 * Validation of a sink's settings per kind (issue #6 item 3, "sinks"), against what
 * libs/exporters' exporters take (OtlpHttpSinkConfig, OtlpGrpcSinkConfig, ZipkinSinkConfig) and
 * how the worker builds them (apps/worker/src/tenants/tenant-sinks.ts: the plain `config` with
 * the decrypted secret merged in, `headers` and `tls` key by key). Every problem is reported at
 * once with its path (`config.headers.x-team`, `secret.headers.authorization`).
 *
 * Secrets are write-only: credentials (authorization and API-key headers, TLS private keys)
 * belong in `secret`, which is stored encrypted and never returned.
 * A credential header written into the plain `config` is refused with a message saying where
 * it goes, so it cannot end up readable by accident.
 *
 * `kafka` settings are checked by libs/exporters' own validateKafkaSinkConfig (the topic must
 * carry the tenant's prefix), so the API refuses exactly what the worker's exporter would.
 * `store` takes no settings.
 */
import { validateKafkaSinkConfig } from '@custodian/exporters';

export type SinkKindName = 'otlphttp' | 'otlpgrpc' | 'zipkin' | 'kafka' | 'store';
export const SINK_KINDS: readonly SinkKindName[] = [
  'otlphttp',
  'otlpgrpc',
  'zipkin',
  'kafka',
  'store',
];

export interface SinkConfigProblem {
  path: string;
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Header names that carry credentials (case-insensitive). */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'dd-api-key',
  'x-honeycomb-team',
  'x-scope-orgid-token',
  'x-insert-key',
  'x-license-key',
  'lightstep-access-token',
  'signoz-access-token',
]);
const CREDENTIAL_NAME = /(secret|token|password|api[-_]?key|auth)/i;

const SIGNALS = ['traces', 'logs', 'metrics'];
const TOP_KEYS: Record<SinkKindName, string[]> = {
  otlphttp: [
    'endpoint',
    'paths',
    'headers',
    'encoding',
    'compression',
    'timeoutMs',
    'tls',
    'signals',
  ],
  otlpgrpc: ['endpoint', 'headers', 'compression', 'timeoutMs', 'insecure', 'tls', 'signals'],
  zipkin: ['endpoint', 'headers', 'compression', 'timeoutMs', 'tls'],
  kafka: ['topic', 'brokers', 'compression', 'signals'],
  store: [],
};
const SECRET_KEYS: Record<SinkKindName, string[]> = {
  otlphttp: ['headers', 'tls'],
  otlpgrpc: ['headers', 'tls'],
  zipkin: ['headers', 'tls'],
  kafka: [],
  store: [],
};

function checkKeys(o: Obj, allowed: readonly string[], path: string, out: SinkConfigProblem[]) {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      out.push({
        path: `${path}.${k}`,
        message: allowed.length
          ? `unknown setting "${k}" (expected one of: ${allowed.join(', ')})`
          : `unknown setting "${k}" (this kind takes no settings)`,
      });
    }
  }
}

function httpUrl(v: unknown, path: string, out: SinkConfigProblem[]): void {
  if (typeof v !== 'string' || v === '') {
    out.push({ path, message: 'is required: the base URL, e.g. https://tempo.example:4318' });
    return;
  }
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    out.push({ path, message: 'is not a URL (e.g. https://tempo.example:4318)' });
    return;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    out.push({ path, message: `must be http:// or https://, got ${u.protocol}` });
  if (u.username || u.password)
    out.push({ path, message: 'must not carry credentials: put them in the secret headers' });
}

function headers(v: unknown, path: string, secret: boolean, out: SinkConfigProblem[]): void {
  if (v === undefined) return;
  if (!isObj(v)) {
    out.push({ path, message: 'expected a map of header name to string value' });
    return;
  }
  for (const [name, value] of Object.entries(v)) {
    const at = `${path}.${name}`;
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      out.push({ path: at, message: 'is not a valid HTTP header name' });
    if (typeof value !== 'string') out.push({ path: at, message: 'expected a string value' });
    else if (/[\r\n]/.test(value)) out.push({ path: at, message: 'must not contain line breaks' });
    if (!secret && (CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_NAME.test(name))) {
      out.push({
        path: at,
        message: `looks like a credential: put it in secret.headers (stored encrypted, never returned)`,
      });
    }
  }
}

function tls(v: unknown, path: string, secret: boolean, out: SinkConfigProblem[]): void {
  if (v === undefined) return;
  if (!isObj(v)) {
    out.push({ path, message: 'expected a map (ca, cert, key, insecureSkipVerify)' });
    return;
  }
  checkKeys(v, secret ? ['key'] : ['ca', 'cert', 'key', 'insecureSkipVerify'], path, out);
  for (const k of ['ca', 'cert', 'key'])
    if (v[k] !== undefined && (typeof v[k] !== 'string' || !String(v[k]).includes('-----BEGIN')))
      out.push({ path: `${path}.${k}`, message: 'expected PEM text' });
  if (v.insecureSkipVerify !== undefined && typeof v.insecureSkipVerify !== 'boolean')
    out.push({ path: `${path}.insecureSkipVerify`, message: 'expected true or false' });
  if (!secret && v.key !== undefined)
    out.push({
      path: `${path}.key`,
      message: 'a private key is a secret: put it in secret.tls.key',
    });
}

function oneOf(v: unknown, values: readonly string[], path: string, out: SinkConfigProblem[]) {
  if (v !== undefined && (typeof v !== 'string' || !values.includes(v)))
    out.push({ path, message: `expected one of: ${values.join(', ')}` });
}

function signals(v: unknown, path: string, out: SinkConfigProblem[], allowed = SIGNALS) {
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length === 0) {
    out.push({ path, message: `expected a non-empty list of: ${allowed.join(', ')}` });
    return;
  }
  v.forEach((s, i) => oneOf(s, allowed, `${path}[${i}]`, out));
}

function timeout(v: unknown, path: string, out: SinkConfigProblem[]) {
  if (v !== undefined && (!Number.isInteger(v) || (v as number) < 100 || (v as number) > 120_000))
    out.push({ path, message: 'expected whole milliseconds between 100 and 120000' });
}

/**
 * Validates a sink's plain settings and its secret settings for `kind`. `secret` undefined =
 * unchanged/none. Returns every problem.
 */
export function validateSinkSettings(
  kind: SinkKindName,
  config: unknown,
  secret: unknown,
  tenantId: string,
): SinkConfigProblem[] {
  const out: SinkConfigProblem[] = [];
  if (!isObj(config)) {
    out.push({ path: 'config', message: 'expected a JSON object' });
    return out;
  }
  checkKeys(config, TOP_KEYS[kind], 'config', out);
  if (secret !== undefined && secret !== null) {
    if (!isObj(secret)) out.push({ path: 'secret', message: 'expected a JSON object' });
    else {
      checkKeys(secret, SECRET_KEYS[kind], 'secret', out);
      if (secret.headers !== undefined) headers(secret.headers, 'secret.headers', true, out);
      if (secret.tls !== undefined) tls(secret.tls, 'secret.tls', true, out);
    }
  }
  switch (kind) {
    case 'otlphttp':
      httpUrl(config.endpoint, 'config.endpoint', out);
      if (config.paths !== undefined) {
        if (!isObj(config.paths))
          out.push({ path: 'config.paths', message: 'expected a map of signal to path' });
        else
          for (const [s, p] of Object.entries(config.paths)) {
            if (!SIGNALS.includes(s))
              out.push({
                path: `config.paths.${s}`,
                message: `unknown signal (expected ${SIGNALS.join(', ')})`,
              });
            if (typeof p !== 'string' || !p.startsWith('/'))
              out.push({ path: `config.paths.${s}`, message: 'expected a path starting with /' });
          }
      }
      headers(config.headers, 'config.headers', false, out);
      oneOf(config.encoding, ['protobuf', 'json'], 'config.encoding', out);
      oneOf(config.compression, ['gzip', 'none'], 'config.compression', out);
      timeout(config.timeoutMs, 'config.timeoutMs', out);
      tls(config.tls, 'config.tls', false, out);
      signals(config.signals, 'config.signals', out);
      break;
    case 'otlpgrpc': {
      const e = config.endpoint;
      if (typeof e !== 'string' || e === '')
        out.push({
          path: 'config.endpoint',
          message: 'is required: host:port, or http(s)://host:port',
        });
      else if (/^https?:\/\//.test(e)) httpUrl(e, 'config.endpoint', out);
      else if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(e) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(e))
        out.push({ path: 'config.endpoint', message: 'expected host:port or http(s)://host:port' });
      headers(config.headers, 'config.headers', false, out);
      oneOf(config.compression, ['gzip', 'none'], 'config.compression', out);
      timeout(config.timeoutMs, 'config.timeoutMs', out);
      if (config.insecure !== undefined && typeof config.insecure !== 'boolean')
        out.push({ path: 'config.insecure', message: 'expected true or false' });
      tls(config.tls, 'config.tls', false, out);
      signals(config.signals, 'config.signals', out);
      break;
    }
    case 'zipkin':
      httpUrl(config.endpoint, 'config.endpoint', out);
      headers(config.headers, 'config.headers', false, out);
      oneOf(config.compression, ['gzip', 'none'], 'config.compression', out);
      timeout(config.timeoutMs, 'config.timeoutMs', out);
      tls(config.tls, 'config.tls', false, out);
      break;
    case 'kafka':
      for (const p of validateKafkaSinkConfig(config, tenantId)) {
        const i = p.indexOf(': ');
        out.push(
          i > 0
            ? { path: `config.${p.slice(0, i)}`, message: p.slice(i + 2) }
            : { path: 'config', message: p },
        );
      }
      break;
    case 'store':
      break;
  }
  return out;
}

/** The names of the settings a secret holds (`headers.authorization`, `tls.key`), never values. */
export function secretKeyNames(secret: unknown, prefix = ''): string[] {
  if (!isObj(secret)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(secret)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (isObj(v)) out.push(...secretKeyNames(v, name));
    else out.push(name);
  }
  return out.sort();
}

/**
 * A secret patch applied to the current secret: maps merge key by key, `null` removes a key.
 * Returns undefined when nothing is left.
 */
export function mergeSecret(current: unknown, patch: Obj): Obj | undefined {
  const base: Obj = isObj(current) ? { ...current } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete base[k];
    else if (isObj(v)) {
      const merged = mergeSecret(base[k], v);
      if (merged) base[k] = merged;
      else delete base[k];
    } else base[k] = v;
  }
  return Object.keys(base).length ? base : undefined;
}
