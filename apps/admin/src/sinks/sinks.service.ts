/**
 * A tenant's sinks through the admin API (issue #6 item 3, "sinks: create, update, test
 * connectivity; secrets write-only, stored encrypted, never returned").
 *
 * - Settings are validated per kind (./sink-config.ts) with every problem and its path.
 * - Secrets (credential headers, TLS private keys, SASL passwords) are accepted on create and
 *   update, sealed with libs/auth's AES-256-GCM under CUSTODIAN_ENCRYPTION_KEY with AAD
 *   `sink:<id>` — exactly what the worker's TenantSinks decrypts with — and never returned:
 *   a SinkView carries `hasSecret` and the secret's setting NAMES only. An update's secret is
 *   a patch (maps merge key by key, null removes a key), so rotating one header does not
 *   require re-sending the others; `clearSecret` removes the whole secret.
 * - The connectivity test builds the exporter the way the worker does (the same factory and
 *   the same merge of plain and secret settings, libs/exporters factory.ts) and
 *   exports one minimal, valid request — one span (or log record, or data point, for a sink
 *   that takes no traces) whose resource says `custodian.connectivity_test=true` — with a
 *   short timeout. Its answer never contains a secret: any secret value that a backend echoes
 *   in an error is replaced before the message leaves.
 * - Every mutation (and every connectivity test, which sends data out) writes an audit event
 *   naming the changed fields, never values.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { encryptSecretJson, openSinkSecret, sinkSecretAad } from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import {
  isUuid,
  PrismaService,
  RepositoryError,
  SinkRepository,
  type JsonObject,
  type Sink,
  type SinkPatch,
} from '@custodian/db';
import {
  ExportError,
  defaultSinkExporterFactory,
  mergeSinkConfig,
  type ExportSignal,
  type SinkExporter,
} from '@custodian/exporters';
import { CONFIG } from '@custodian/ops';
import {
  encodeLogs,
  encodeMetrics,
  encodeTraces,
  type LogsData,
  type MetricsData,
  type TracesData,
} from '@custodian/otlp';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { adminError, conflict, notFound } from '../auth/errors';
import {
  SINK_KINDS,
  mergeSecret,
  secretKeyNames,
  validateSinkSettings,
  type SinkConfigProblem,
  type SinkKindName,
} from './sink-config';

/** A sink as the API shows it: no secret values, ever. */
export interface SinkView {
  id: string;
  tenantId: string;
  name: string;
  kind: SinkKindName;
  config: Record<string, unknown>;
  hasSecret: boolean;
  /** Names of the secret settings (`headers.authorization`), never their values. */
  secretKeys: string[];
  /** False when the stored secret cannot be decrypted with this process's key. */
  secretReadable: boolean;
  clearedForRestricted: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateSinkInput {
  name: string;
  kind: SinkKindName;
  config?: Record<string, unknown> | null;
  secret?: Record<string, unknown> | null;
  enabled?: boolean | null;
  clearedForRestricted?: boolean | null;
}

export interface UpdateSinkInput {
  name?: string | null;
  /** Replaces the plain settings. */
  config?: Record<string, unknown> | null;
  /** Patch of the secret: maps merge, null removes a key. */
  secret?: Record<string, unknown> | null;
  /** Removes the whole secret. */
  clearSecret?: boolean | null;
  enabled?: boolean | null;
  clearedForRestricted?: boolean | null;
}

export interface ConnectivityResult {
  ok: boolean;
  /** Round trip of the export call. */
  latencyMs: number;
  signal: ExportSignal | null;
  /** `ok`, `rejected` (the backend answered with an error), `unreachable`, `unsupported`. */
  status: 'ok' | 'rejected' | 'unreachable' | 'unsupported';
  message: string;
  retryable: boolean;
}

/** Kinds a connectivity test can reach on its own (store and kafka need the worker's clients). */
const EXPORTER_KINDS = new Set<SinkKindName>(['otlphttp', 'otlpgrpc', 'zipkin']);
const TEST_TIMEOUT_MS = 5000;

function invalid(problems: SinkConfigProblem[]) {
  return adminError(
    'BAD_USER_INPUT',
    `the sink settings have ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
      .slice(0, 3)
      .map((p) => `${p.path}: ${p.message}`)
      .join('; ')}${problems.length > 3 ? '; …' : ''}`,
    { errors: problems },
  );
}

function testRequest(signal: ExportSignal) {
  const resource = {
    attributes: [
      { key: 'service.name', value: { stringValue: 'custodian-connectivity-test' } },
      { key: 'custodian.connectivity_test', value: { boolValue: true } },
    ],
    droppedAttributesCount: 0,
  };
  const scope = { name: 'custodian', version: '', attributes: [], droppedAttributesCount: 0 };
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  if (signal === 'traces') {
    const data: TracesData = {
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope,
              spans: [
                {
                  traceId: randomBytes(16),
                  spanId: randomBytes(8),
                  traceState: '',
                  parentSpanId: new Uint8Array(0),
                  flags: 1,
                  name: 'custodian.connectivity_test',
                  kind: 1,
                  startTimeUnixNano: nowNs - 1_000_000n,
                  endTimeUnixNano: nowNs,
                  attributes: [],
                  droppedAttributesCount: 0,
                  events: [],
                  droppedEventsCount: 0,
                  links: [],
                  droppedLinksCount: 0,
                },
              ],
              schemaUrl: '',
            },
          ],
          schemaUrl: '',
        },
      ],
    };
    return { signal, protobuf: encodeTraces(data), data, items: 1 };
  }
  if (signal === 'logs') {
    const data: LogsData = {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              scope,
              logRecords: [
                {
                  timeUnixNano: nowNs,
                  observedTimeUnixNano: nowNs,
                  severityNumber: 9,
                  severityText: 'INFO',
                  body: { stringValue: 'custodian connectivity test' },
                  attributes: [],
                  droppedAttributesCount: 0,
                  flags: 0,
                  traceId: new Uint8Array(0),
                  spanId: new Uint8Array(0),
                  eventName: '',
                },
              ],
              schemaUrl: '',
            },
          ],
          schemaUrl: '',
        },
      ],
    };
    return { signal, protobuf: encodeLogs(data), data, items: 1 };
  }
  const data: MetricsData = {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope,
            metrics: [
              {
                name: 'custodian.connectivity_test',
                description: '',
                unit: '1',
                metadata: [],
                gauge: {
                  dataPoints: [
                    {
                      attributes: [],
                      startTimeUnixNano: 0n,
                      timeUnixNano: nowNs,
                      asInt: 1n,
                      exemplars: [],
                      flags: 0,
                    },
                  ],
                },
              },
            ],
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
  return { signal, protobuf: encodeMetrics(data), data, items: 1 };
}

/** Every string leaf of a secret (to scrub them from messages). */
function secretValues(secret: unknown, out: string[] = []): string[] {
  if (typeof secret === 'string' && secret.length >= 4) out.push(secret);
  else if (secret && typeof secret === 'object')
    for (const v of Object.values(secret)) secretValues(v, out);
  return out;
}

@Injectable()
export class SinksService {
  private readonly repo: SinkRepository;

  constructor(
    prisma: PrismaService,
    @Inject(CONFIG) private readonly config: Pick<CustodianConfig, 'encryptionKey'>,
    private readonly audit: AdminAudit,
  ) {
    this.repo = new SinkRepository(prisma.client);
  }

  async list(tenantId: string): Promise<SinkView[]> {
    return (await this.repo.list(tenantId)).map((s) => this.view(s));
  }

  async get(tenantId: string, sinkId: string): Promise<SinkView> {
    return this.view(await this.row(tenantId, sinkId));
  }

  async create(actor: Actor | null, tenantId: string, input: CreateSinkInput): Promise<SinkView> {
    if (!SINK_KINDS.includes(input.kind)) {
      throw invalid([{ path: 'kind', message: `expected one of: ${SINK_KINDS.join(', ')}` }]);
    }
    const config = input.config ?? {};
    const secret = input.secret ?? undefined;
    const problems = validateSinkSettings(input.kind, config, secret, tenantId);
    if (typeof input.name !== 'string' || input.name.trim() === '')
      problems.unshift({ path: 'name', message: 'must not be empty' });
    else if (input.name.length > 100)
      problems.unshift({ path: 'name', message: 'at most 100 characters' });
    if (problems.length) throw invalid(problems);
    const hasSecret = secret !== undefined && Object.keys(secret).length > 0;
    let row: Sink;
    try {
      row = await this.repo.create(tenantId, {
        name: input.name,
        kind: input.kind,
        config: config as JsonObject,
        ...(hasSecret ? { sealSecret: (id: string) => this.seal(id, secret) } : {}),
        enabled: input.enabled ?? true,
        clearedForRestricted: input.clearedForRestricted ?? false,
      });
    } catch (err) {
      throw this.repoError(err);
    }
    const view = this.view(row);
    await this.audit.record(actor, {
      action: 'sink.create',
      tenantId,
      targetType: 'Sink',
      targetId: row.id,
      fields: [
        'name',
        'kind',
        'config',
        ...(hasSecret ? ['secret'] : []),
        'enabled',
        'clearedForRestricted',
      ],
      details: {
        name: row.name,
        kind: row.kind,
        secretKeys: view.secretKeys,
        enabled: row.enabled,
        clearedForRestricted: row.clearedForRestricted,
      },
    });
    return view;
  }

  async update(
    actor: Actor | null,
    tenantId: string,
    sinkId: string,
    input: UpdateSinkInput,
  ): Promise<SinkView> {
    const current = await this.row(tenantId, sinkId);
    const kind = current.kind as SinkKindName;
    const fields: string[] = [];
    const patch: SinkPatch = {};
    const problems: SinkConfigProblem[] = [];
    if (input.name !== undefined && input.name !== null && input.name !== current.name) {
      if (input.name.trim() === '') problems.push({ path: 'name', message: 'must not be empty' });
      patch.name = input.name;
      fields.push('name');
    }
    const config = input.config ?? (current.config as Record<string, unknown>);
    if (input.config !== undefined && input.config !== null) {
      patch.config = input.config as JsonObject;
      fields.push('config');
    }
    let secret: Record<string, unknown> | undefined = undefined;
    let secretChanged = false;
    if (input.clearSecret) {
      patch.sealSecret = null;
      secretChanged = true;
    }
    if (input.secret !== undefined && input.secret !== null) {
      const existing = input.clearSecret ? undefined : this.openSecret(current);
      secret = mergeSecret(existing, input.secret);
      patch.sealSecret = secret ? (id: string) => this.seal(id, secret) : null;
      secretChanged = true;
    } else if (!input.clearSecret && current.secretCiphertext) {
      secret = this.openSecret(current);
    }
    if (secretChanged) fields.push('secret');
    problems.push(...validateSinkSettings(kind, config, secret, tenantId));
    if (problems.length) throw invalid(problems);
    if (
      input.enabled !== undefined &&
      input.enabled !== null &&
      input.enabled !== current.enabled
    ) {
      patch.enabled = input.enabled;
      fields.push('enabled');
    }
    if (
      input.clearedForRestricted !== undefined &&
      input.clearedForRestricted !== null &&
      input.clearedForRestricted !== current.clearedForRestricted
    ) {
      patch.clearedForRestricted = input.clearedForRestricted;
      fields.push('clearedForRestricted');
    }
    if (fields.length === 0) return this.view(current);
    let row: Sink | null;
    try {
      row = await this.repo.update(tenantId, sinkId, patch);
    } catch (err) {
      throw this.repoError(err);
    }
    if (!row) throw notFound(`tenant has no sink ${sinkId}`);
    const view = this.view(row);
    await this.audit.record(actor, {
      action: 'sink.update',
      tenantId,
      targetType: 'Sink',
      targetId: sinkId,
      fields,
      details: {
        name: row.name,
        ...(secretChanged ? { secretKeys: view.secretKeys } : {}),
        ...(fields.includes('enabled') ? { enabled: row.enabled } : {}),
        ...(fields.includes('clearedForRestricted')
          ? { clearedForRestricted: row.clearedForRestricted }
          : {}),
      },
    });
    return view;
  }

  async delete(actor: Actor | null, tenantId: string, sinkId: string): Promise<boolean> {
    const current = await this.row(tenantId, sinkId);
    const ok = await this.repo.delete(tenantId, sinkId);
    if (!ok) throw notFound(`tenant has no sink ${sinkId}`);
    await this.audit.record(actor, {
      action: 'sink.delete',
      tenantId,
      targetType: 'Sink',
      targetId: sinkId,
      details: { name: current.name, kind: current.kind },
    });
    return true;
  }

  /** Exports one minimal request to the sink (module comment). Never throws for the sink's failures. */
  async testConnectivity(
    actor: Actor | null,
    tenantId: string,
    sinkId: string,
  ): Promise<ConnectivityResult> {
    const row = await this.row(tenantId, sinkId);
    const result = await this.probe(row);
    await this.audit.record(actor, {
      action: 'sink.test',
      tenantId,
      targetType: 'Sink',
      targetId: sinkId,
      outcome: result.ok ? 'success' : 'failure',
      details: {
        name: row.name,
        kind: row.kind,
        status: result.status,
        latencyMs: result.latencyMs,
      },
    });
    return result;
  }

  // -------------------------------------------------------------------------------------------

  private async probe(row: Sink): Promise<ConnectivityResult> {
    const kind = row.kind as SinkKindName;
    const unsupported = (message: string): ConnectivityResult => ({
      ok: false,
      latencyMs: 0,
      signal: null,
      status: 'unsupported',
      message,
      retryable: false,
    });
    if (!EXPORTER_KINDS.has(kind)) {
      return unsupported(
        `connectivity tests cover otlphttp, otlpgrpc and zipkin sinks; a "${kind}" sink is written by the worker's own ${kind === 'store' ? 'trace store' : 'Kafka producer'}`,
      );
    }
    let secret: unknown;
    try {
      secret = openSinkSecret(this.config.encryptionKey, row);
    } catch {
      return unsupported("the sink's secret cannot be decrypted with this process's key");
    }
    const scrub = (text: string) => {
      let out = text;
      for (const v of secretValues(secret)) out = out.split(v).join('[REDACTED]');
      return out;
    };
    const merged = mergeSinkConfig(row.config, secret);
    const configured = typeof merged.timeoutMs === 'number' ? merged.timeoutMs : TEST_TIMEOUT_MS;
    merged.timeoutMs = Math.min(configured, TEST_TIMEOUT_MS);
    let exporter: SinkExporter | undefined;
    try {
      exporter = defaultSinkExporterFactory(row.kind, merged);
    } catch (err) {
      return unsupported(`the sink's settings cannot build an exporter (${(err as Error).name})`);
    }
    if (!exporter) return unsupported(`no exporter for "${kind}" sinks`);
    const signal = (['traces', 'logs', 'metrics'] as const).find((s) => exporter.supports(s));
    if (!signal) {
      await exporter.close();
      return unsupported('the sink takes no signal');
    }
    const started = performance.now();
    try {
      const outcome = await exporter.export(testRequest(signal));
      const latencyMs = Math.round(performance.now() - started);
      return {
        ok: true,
        latencyMs,
        signal,
        status: 'ok',
        message: scrub(
          outcome.rejected > 0
            ? `reachable; the backend rejected ${outcome.rejected} test item(s)${outcome.message ? `: ${outcome.message}` : ''}`
            : `accepted one test ${signal === 'traces' ? 'span' : signal === 'logs' ? 'log record' : 'data point'}`,
        ),
        retryable: false,
      };
    } catch (err) {
      const latencyMs = Math.round(performance.now() - started);
      const e = err as Error;
      const retryable = err instanceof ExportError ? err.retryable : true;
      // An ExportError with an HTTP/gRPC status means the backend answered; the rest (refused,
      // timeout, DNS) means it was not reached.
      const answered = err instanceof ExportError && /(HTTP \d{3}|: [A-Z_]+: )/.test(e.message);
      return {
        ok: false,
        latencyMs,
        signal,
        status:
          answered && !/UNAVAILABLE|DEADLINE_EXCEEDED/.test(e.message) ? 'rejected' : 'unreachable',
        message: scrub(e.message).slice(0, 500),
        retryable,
      };
    } finally {
      await exporter.close();
    }
  }

  private async row(tenantId: string, sinkId: string): Promise<Sink> {
    const row = isUuid(sinkId) && isUuid(tenantId) ? await this.repo.get(tenantId, sinkId) : null;
    if (!row) throw notFound(`tenant has no sink ${sinkId}`);
    return row;
  }

  private seal(sinkId: string, secret: unknown): Uint8Array {
    return encryptSecretJson(this.config.encryptionKey, secret, sinkSecretAad(sinkId));
  }

  private openSecret(row: Sink): Record<string, unknown> | undefined {
    try {
      return openSinkSecret(this.config.encryptionKey, row) as Record<string, unknown> | undefined;
    } catch {
      throw conflict(
        "the sink's stored secret cannot be decrypted with this process's key: set clearSecret and send the secret again",
      );
    }
  }

  private view(row: Sink): SinkView {
    let secretKeys: string[] = [];
    let secretReadable = true;
    if (row.secretCiphertext) {
      try {
        secretKeys = secretKeyNames(openSinkSecret(this.config.encryptionKey, row));
      } catch {
        secretReadable = false;
      }
    }
    return {
      id: row.id,
      tenantId: row.tenantId,
      name: row.name,
      kind: row.kind as SinkKindName,
      config: (row.config ?? {}) as Record<string, unknown>,
      hasSecret: row.secretCiphertext !== null,
      secretKeys,
      secretReadable,
      clearedForRestricted: row.clearedForRestricted,
      enabled: row.enabled,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private repoError(err: unknown) {
    if (err instanceof RepositoryError) {
      if (err.code === 'conflict') return conflict(err.message);
      if (err.code === 'not_found') return notFound(err.message);
      return adminError('BAD_USER_INPUT', err.message);
    }
    // A tenant id that does not exist fails the foreign key.
    if ((err as { code?: string }).code === 'P2003') return notFound('no such tenant');
    return err;
  }
}
