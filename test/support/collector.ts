/**
 * An OpenTelemetry Collector as the downstream OTLP sink of cross-process tests (issue #5
 * "Proven by tests": a sink that is not our code). The binary is the project's own build of the
 * Collector (deploy/local/install-tools.sh, manifest deploy/local/otelcol/builder-config.yaml):
 * otlp receiver on free ports → file exporter writing one OTLP/JSON ExportTraceServiceRequest
 * per line. Tests read back what the Collector itself decoded and wrote, so what they assert is
 * what a real backend behind a Collector would have received.
 *
 * Each start writes a new file, so a sink stopped and started again (an outage) keeps what it
 * received before; `spans()` reads them all. Readiness is the health_check extension's answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyVersionRepository, SinkRepository, type PrismaClient } from '@custodian/db';
import { parsePolicy, policyHash, type PolicyDocument } from '@custodian/policy';
import { REPO_ROOT } from './custodian-process';
import { freePort, waitFor } from './ports';

export const OTELCOL_BIN = join(
  process.env.CUSTODIAN_STACK_DIR ?? join(REPO_ROOT, '.stack'),
  'bin',
  'otelcol-custodian',
);

/** An attribute value as the Collector wrote it, turned into a plain JS value. */
export type AttrValue =
  string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };

/** One span the Collector received, flattened. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  name: string;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  /** The raw JSON line it came from, for "no secret anywhere" checks. */
  line: number;
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  name: string;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: JsonKeyValue[];
  status?: { code?: number };
}
interface JsonTraces {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { spans?: JsonSpan[] }[];
  }[];
}

function anyValue(v: JsonAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return null;
}

function attributes(kvs: JsonKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** Parses the file exporter's JSON lines (one ExportTraceServiceRequest each) into spans. */
export function parseTraceLines(text: string): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  text.split('\n').forEach((raw, line) => {
    if (raw.trim() === '') return;
    const req = JSON.parse(raw) as JsonTraces;
    for (const rs of req.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            name: s.name,
            statusCode: s.status?.code ?? 0,
            startTimeUnixNano: s.startTimeUnixNano ?? '0',
            endTimeUnixNano: s.endTimeUnixNano ?? '0',
            attributes: attributes(s.attributes),
            resource,
            line,
          });
        }
      }
    }
  });
  return spans;
}

export class CollectorSink {
  private child?: ChildProcess;
  private exit?: Promise<void>;
  private generation = 0;
  private stderr = '';

  private constructor(
    readonly dir: string,
    readonly httpPort: number,
    readonly grpcPort: number,
    private readonly healthPort: number,
  ) {}

  /** Starts a Collector on free ports and waits until its health check answers. */
  static async start(): Promise<CollectorSink> {
    if (!existsSync(OTELCOL_BIN))
      throw new Error(`${OTELCOL_BIN} missing: run bash deploy/local/install-tools.sh`);
    const sink = new CollectorSink(
      mkdtempSync(join(tmpdir(), 'custodian-otelcol-')),
      await freePort(),
      await freePort(),
      await freePort(),
    );
    await sink.resume();
    return sink;
  }

  /** OTLP/HTTP base URL (the otlphttp sink's endpoint). */
  get httpEndpoint(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** OTLP/gRPC target. */
  get grpcEndpoint(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** (Re)starts the Collector on the same ports, writing to a new file. */
  async resume(): Promise<void> {
    if (this.child) return;
    const gen = ++this.generation;
    const config = join(this.dir, `config-${gen}.yaml`);
    // The Collector's own telemetry is off: its metrics server would claim a fixed port.
    writeFileSync(
      config,
      [
        'receivers:',
        '  otlp:',
        '    protocols:',
        `      grpc: { endpoint: "127.0.0.1:${this.grpcPort}" }`,
        `      http: { endpoint: "127.0.0.1:${this.httpPort}" }`,
        'exporters:',
        '  file:',
        `    path: "${join(this.dir, `received-${gen}.jsonl`)}"`,
        '    format: json',
        '    flush_interval: 100ms',
        'extensions:',
        `  health_check: { endpoint: "127.0.0.1:${this.healthPort}" }`,
        'service:',
        '  extensions: [health_check]',
        '  telemetry:',
        '    metrics: { level: none }',
        '    logs: { level: warn }',
        '  pipelines:',
        '    traces: { receivers: [otlp], exporters: [file] }',
        '    logs: { receivers: [otlp], exporters: [file] }',
        '    metrics: { receivers: [otlp], exporters: [file] }',
        '',
      ].join('\n'),
    );
    const child = spawn(OTELCOL_BIN, ['--config', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.stderr = (this.stderr + c).slice(-4000);
    });
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    await waitFor(
      `Collector healthy on :${this.healthPort} (stderr: ${this.stderr.slice(-500)})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`Collector exited: ${this.stderr}`);
        try {
          const res = await fetch(`http://127.0.0.1:${this.healthPort}/`);
          return res.status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      20000,
      100,
    );
  }

  /** Stops the Collector (SIGTERM: the file exporter flushes what it holds). */
  async pause(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await this.exit;
  }

  /** Every span received so far, over all starts, in arrival order. */
  spans(): ReceivedSpan[] {
    return this.files().flatMap((f) => parseTraceLines(readFileSync(f, 'utf8')));
  }

  /** Everything the Collector wrote, as text (for "this string is nowhere" checks). */
  rawText(): string {
    return this.files()
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
  }

  /** Waits until `pick` returns a value for the spans received so far. */
  waitForSpans<T>(
    what: string,
    pick: (spans: ReceivedSpan[]) => T | undefined,
    timeoutMs = 30000,
  ): Promise<T> {
    return waitFor(what, async () => pick(this.spans()), timeoutMs, 250);
  }

  /** Stops the Collector and removes its files. */
  async close(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private files(): string[] {
    return readdirSync(this.dir)
      .filter((f) => /^received-\d+\.jsonl$/.test(f))
      .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
      .map((f) => join(this.dir, f));
  }
}

/** Gives a tenant an otlphttp sink pointing at `collector`; returns the sink's id. */
export async function collectorSink(
  db: PrismaClient,
  tenantId: string,
  name: string,
  collector: CollectorSink,
): Promise<string> {
  const sink = await new SinkRepository(db).create(tenantId, {
    name,
    kind: 'otlphttp',
    config: { endpoint: collector.httpEndpoint, timeoutMs: 3000 },
    clearedForRestricted: false,
  });
  return sink.id;
}

/** Validates `doc` (a policy document as JSON) and makes it the tenant's active policy. */
export async function activatePolicy(
  db: PrismaClient,
  tenantId: string,
  doc: object,
): Promise<PolicyDocument> {
  const source = JSON.stringify(doc);
  const { policy, problems } = parsePolicy(source, 'json');
  if (!policy) throw new Error(JSON.stringify(problems));
  const versions = new PolicyVersionRepository(db);
  const v = await versions.create(tenantId, {
    document: policy as never,
    source,
    format: 'json',
    checksum: policyHash(policy),
  });
  if (!(await versions.activate(tenantId, v.id))) throw new Error('policy not activated');
  return policy;
}
