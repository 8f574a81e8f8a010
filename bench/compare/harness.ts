/**
 * What the end-to-end benchmarks (bench/worker/pipeline.bench.ts, bench/compare) share: the
 * process measurements of bench/gateway (CPU seconds from /proc/<pid>/stat, peak RSS from
 * VmHWM), pinned child processes, the counting OTLP sink process, a Prometheus text reader for
 * the systems' own counters, Custodian tenant setup, percentiles and a machine description.
 * Everything here reads the stack; nothing restarts or reconfigures it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { mintApiKey } from '@custodian/auth';
import {
  ApiKeyRepository,
  PolicyVersionRepository,
  SinkRepository,
  TenantRepository,
  type PrismaClient,
} from '@custodian/db';
import { policyHash, type PolicyDocument } from '@custodian/policy';
import { waitFor } from '../../test/support/ports';
import type { SinkStats, SinkTrace } from './otlp-sink';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, '.stack', 'bin');
export const PEPPER = 'bench-e2e-pepper-0123456789abcdef0123456789abcdef';

/** The built CLI; BENCH_DIST (e.g. dist-h5) selects another build directory. */
export function cliPath(): string {
  return join(ROOT, process.env.BENCH_DIST ?? 'dist', 'apps', 'custodian', 'src', 'main.js');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** utime + stime of a process, in seconds (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Peak resident set since the process started, MB. */
export const peakRssMb = (pid: number) => Math.round(statusKb(pid, 'VmHWM') / 1024);
/** Resident set now, MB. */
export const rssMb = (pid: number) => Math.round(statusKb(pid, 'VmRSS') / 1024);

/**
 * The Kafka broker's pid (from deploy/local's pid file), to report the broker CPU Custodian's
 * durability costs outside its own process. Read only; undefined if not found.
 */
export function kafkaPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(ROOT, '.stack', 'run', 'kafka.pid'), 'utf8').trim());
    return existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface Pinned {
  proc: ChildProcess;
  /** taskset execs the command in place, so this is the measured process itself. */
  pid: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `cmd args` pinned to `core` (a taskset CPU list), stdout handed to `onLine`. */
export function spawnPinned(
  core: string,
  cmd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  onLine?: (line: string) => void,
): Pinned {
  const proc = spawn('taskset', ['-c', core, cmd, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err = (err + c).slice(-8000);
  });
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine?.(line);
    }
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, pid: proc.pid!, stderr: () => err, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopProcess(p: Pinned, graceMs = 15_000): Promise<number | null> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.proc.exitCode;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), graceMs);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}

/** Polls until `probe` answers (the test suites' waitFor, with a benchmark's longer default). */
export function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  return waitFor(what, probe, timeoutMs, intervalMs);
}

export async function httpOk(url: string): Promise<true | undefined> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.status === 200 ? true : undefined;
}

/** The counting OTLP sink (otlp-sink.ts) in its own process, on `core`. */
export class SinkProcess {
  private constructor(
    readonly proc: Pinned,
    readonly port: number,
  ) {}

  static async start(core: string): Promise<SinkProcess> {
    let port = 0;
    const p = spawnPinned(
      core,
      process.execPath,
      ['--require', join(ROOT, 'bench', 'register.js'), join(__dirname, 'otlp-sink.ts'), '0'],
      {},
      (line) => {
        try {
          port = (JSON.parse(line) as { listening?: number }).listening ?? port;
        } catch {
          // not ours
        }
      },
    );
    await waitUntil(`sink listening (${p.stderr()})`, () => (port ? true : undefined), 30_000, 50);
    return new SinkProcess(p, port);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stats(): Promise<SinkStats> {
    return (await (await fetch(`${this.endpoint}/stats`)).json()) as SinkStats;
  }

  async traces(): Promise<Map<string, SinkTrace>> {
    const entries = (await (await fetch(`${this.endpoint}/traces`)).json()) as [
      string,
      SinkTrace,
    ][];
    return new Map(entries);
  }

  async reset(): Promise<void> {
    await (await fetch(`${this.endpoint}/reset`, { method: 'POST' })).arrayBuffer();
  }

  stop(): Promise<number | null> {
    return stopProcess(this.proc, 3000);
  }
}

/**
 * Sums the samples of a Prometheus text exposition whose name is `name` and whose labels
 * include every pair in `match` (a tiny reader: enough for counters with plain label values).
 */
export function sumMetric(text: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** p in [0, 1] of an ascending array; 0 when empty. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function latencySummary(values: number[]): {
  n: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
} {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50_ms: Math.round(quantile(s, 0.5)),
    p90_ms: Math.round(quantile(s, 0.9)),
    p99_ms: Math.round(quantile(s, 0.99)),
    max_ms: Math.round(s.length ? s[s.length - 1] : 0),
  };
}

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: 'pipe' })
      .trim()
      .split('\n')[0];
  } catch {
    return 'unavailable';
  }
}

function kafkaVersion(): string {
  try {
    const libs = readdirSync(join(ROOT, '.stack', 'dist'), { recursive: true }) as string[];
    const jar = libs.find((f) => /kafka_2\.13-[\d.]+\.jar$/.test(f));
    return jar ? /kafka_2\.13-([\d.]+)\.jar$/.exec(jar)![1] : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** CPU model, cores, RAM, kernel and the versions of everything measured. */
export function machine(extra: Record<string, string> = {}): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ram_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    kafka: kafkaVersion(),
    telemetrygen: existsSync(join(BIN, 'telemetrygen')) ? 'v0.161.0 (install-tools.sh)' : 'missing',
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    ...extra,
  };
}

export { versionOf };

export interface BenchTenant {
  tenantId: string;
  key: string;
  sinkName: string;
  policy: PolicyDocument;
}

/**
 * A fresh tenant with an ingest key (hashed under PEPPER), no effective ingest limit, an
 * otlphttp sink (protobuf, no compression: the Collector's exporter is configured the same)
 * and `policy` activated with a route sending everything to that sink.
 */
export async function benchTenant(
  db: PrismaClient,
  sinkEndpoint: string,
  policy: PolicyDocument,
  label: string,
): Promise<BenchTenant> {
  const t = await new TenantRepository(db).create({
    slug: `bench-${label}-${randomBytes(3).toString('hex')}`,
    name: `bench ${label}`,
  });
  await db.tenant.update({
    where: { id: t.id },
    data: { limits: { spansPerSecond: 100_000_000 } },
  });
  const minted = mintApiKey(PEPPER);
  await new ApiKeyRepository(db).create(t.id, {
    id: minted.id,
    name: 'bench',
    secretHash: minted.secretHash,
  });
  const sinkName = 'bench-sink';
  await new SinkRepository(db).create(t.id, {
    name: sinkName,
    kind: 'otlphttp',
    config: { endpoint: sinkEndpoint, compression: 'none', encoding: 'protobuf' },
    clearedForRestricted: false,
  });
  const doc: PolicyDocument = {
    ...structuredClone(policy),
    routes: [{ sink: sinkName, select: 'all', restricted_fields: false }],
  };
  const versions = new PolicyVersionRepository(db);
  const v = await versions.create(t.id, {
    document: doc as never,
    source: JSON.stringify(doc),
    format: 'json',
    checksum: policyHash(doc),
  });
  if (!(await versions.activate(t.id, v.id))) throw new Error('policy not activated');
  return { tenantId: t.id, key: minted.key, sinkName, policy: doc };
}
