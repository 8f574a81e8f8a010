/**
 * Streams a tenant's audit events to one of its sinks as OTLP logs (issue #6 item 4), for
 * tenants that ask (`configureAuditStream`). The audit log itself is the durable queue: each
 * stream keeps a cursor (audit_streams.last_seq) that advances only after the sink accepted
 * every event up to it, so a sink outage delays the stream and loses nothing, and a restart
 * resumes where the sink left off (at-least-once: an export that succeeded just before a crash
 * is sent again).
 *
 * Runs in the admin role (which owns the audit log). Several admin replicas may run it: a
 * tenant's stream row is taken with `FOR UPDATE SKIP LOCKED` for the whole send, so one replica
 * streams a tenant at a time and the others skip it. Failures back off per tenant (doubling
 * from the poll interval up to 5 minutes) and are kept in `last_error` (the exporter's message,
 * never event content) for the status query and in metrics.
 */
import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { auditEventsToLogs, type ChainedAuditRecord } from '@custodian/audit';
import { openSinkSecret } from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import { PrismaService, type PrismaClient } from '@custodian/db';
import {
  ExportError,
  defaultSinkExporterFactory,
  mergeSinkConfig,
  type SinkExporter,
  type SinkKind,
} from '@custodian/exporters';
import { CONFIG, Counter, Gauge, LOGGER, METRICS, type Logger, Registry } from '@custodian/ops';
import { encodeLogs } from '@custodian/otlp';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../auth/errors';
import { AdminAudit } from './admin-audit.service';

/** Events per export request. */
export const AUDIT_STREAM_BATCH = 500;
/** Batches per tenant per tick, so one tenant's backlog cannot starve the others. */
const BATCHES_PER_TICK = 10;
const MAX_BACKOFF_MS = 5 * 60_000;
const EXPORT_TIMEOUT_MS = 10_000;

export interface AuditStreamStatus {
  tenantId: string;
  sinkId: string;
  sinkName: string;
  enabled: boolean;
  lastSeq: string;
  /** Events of the tenant not yet accepted by the sink. */
  pending: number;
  lastDeliveredAt: Date | null;
  lastError: string | null;
}

export interface StreamOnceResult {
  /** Events the sink accepted in this call. */
  sent: number;
  /** True when the stream is caught up (or the row is held by another replica). */
  done: boolean;
  error?: string;
}

interface StreamRow {
  tenant_id: string;
  sink_id: string;
  last_seq: bigint;
}

interface CachedExporter {
  updatedAt: number;
  exporter: SinkExporter;
}

@Injectable()
export class AuditStreamService implements OnApplicationBootstrap, OnModuleDestroy {
  /** Poll interval; tests shorten it. */
  intervalMs = 5_000;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly backoff = new Map<string, { until: number; delayMs: number }>();
  private readonly exporters = new Map<string, CachedExporter>();
  private readonly events?: Counter<'tenant' | 'outcome'>;
  private readonly pendingGauge?: Gauge<'tenant'>;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(CONFIG) private readonly config: CustodianConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly audit: AdminAudit,
    @Optional() @Inject(METRICS) registry?: Registry,
  ) {
    if (registry) {
      this.events = new Counter({
        name: 'custodian_admin_audit_stream_events_total',
        help: 'Audit events streamed to tenant sinks as OTLP logs, by outcome (exported, failed).',
        labelNames: ['tenant', 'outcome'],
        registers: [registry],
      });
      this.pendingGauge = new Gauge({
        name: 'custodian_admin_audit_stream_pending_events',
        help: 'Audit events not yet accepted by the tenant’s audit sink (at the last attempt).',
        labelNames: ['tenant'],
        registers: [registry],
      });
    }
  }

  private get db(): PrismaClient {
    return this.prisma.client;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await Promise.all([...this.exporters.values()].map((e) => e.exporter.close().catch(() => {})));
    this.exporters.clear();
  }

  /** Starts (or re-points) a tenant's audit stream at one of its sinks, or stops it (null). */
  async configure(
    actor: Actor,
    tenantId: string,
    sinkId: string | null,
    fromBeginning: boolean,
  ): Promise<AuditStreamStatus | null> {
    if (sinkId === null) {
      const deleted = await this.db.auditStream.deleteMany({ where: { tenantId } });
      await this.audit.record(actor, {
        action: 'audit.stream_disable',
        tenantId,
        targetType: 'AuditStream',
        targetId: tenantId,
        details: { removed: deleted.count > 0 },
      });
      return null;
    }
    const sink = await this.db.sink.findFirst({ where: { id: sinkId, tenantId } });
    if (!sink) throw notFound(`sink ${sinkId} not found in tenant ${tenantId}`);
    const probe = this.buildExporter(sink);
    const acceptsLogs = probe?.supports('logs') ?? false;
    await probe?.close().catch(() => undefined);
    if (!acceptsLogs) {
      throw badInput(
        `sinkId: sink "${sink.name}" (${sink.kind}) does not accept OTLP logs; use an otlphttp or otlpgrpc sink`,
      );
    }
    const start = fromBeginning
      ? 0n
      : ((await this.db.auditEvent.aggregate({ where: { tenantId }, _max: { seq: true } }))._max
          .seq ?? 0n);
    await this.db.auditStream.upsert({
      where: { tenantId },
      create: { tenantId, sinkId, lastSeq: start },
      update: { sinkId, enabled: true, lastSeq: start, lastError: null },
    });
    this.backoff.delete(tenantId);
    await this.audit.record(actor, {
      action: 'audit.stream_configure',
      tenantId,
      targetType: 'Sink',
      targetId: sinkId,
      details: { sink: sink.name, fromBeginning },
    });
    return (await this.status(tenantId))!;
  }

  async status(tenantId: string): Promise<AuditStreamStatus | null> {
    const row = await this.db.auditStream.findUnique({
      where: { tenantId },
      include: { sink: { select: { name: true } } },
    });
    if (!row) return null;
    const pending = await this.db.auditEvent.count({
      where: { tenantId, seq: { gt: row.lastSeq } },
    });
    return {
      tenantId,
      sinkId: row.sinkId,
      sinkName: row.sink.name,
      enabled: row.enabled,
      lastSeq: row.lastSeq.toString(),
      pending,
      lastDeliveredAt: row.lastDeliveredAt,
      lastError: row.lastError,
    };
  }

  /** One pass over every enabled stream that is not backing off. */
  async tick(now = Date.now()): Promise<void> {
    let tenants: { tenantId: string }[];
    try {
      tenants = await this.db.auditStream.findMany({
        where: { enabled: true },
        select: { tenantId: true },
      });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'audit stream: cannot list streams');
      return;
    }
    for (const { tenantId } of tenants) {
      const b = this.backoff.get(tenantId);
      if (b && b.until > now) continue;
      for (let i = 0; i < BATCHES_PER_TICK; i++) {
        const r = await this.streamOnce(tenantId);
        if (r.error) {
          const delayMs = Math.min((b?.delayMs ?? this.intervalMs / 2) * 2, MAX_BACKOFF_MS);
          this.backoff.set(tenantId, { until: Date.now() + delayMs, delayMs });
          break;
        }
        this.backoff.delete(tenantId);
        if (r.done) break;
      }
    }
  }

  /**
   * Sends the next batch of one tenant's events after its cursor and advances the cursor when
   * the sink accepted them. Holds the stream row for the duration, so replicas never send the
   * same batch concurrently.
   */
  async streamOnce(tenantId: string): Promise<StreamOnceResult> {
    try {
      return await this.db.$transaction(
        async (tx) => {
          const rows = await tx.$queryRaw<StreamRow[]>`
            SELECT tenant_id::text, sink_id::text, last_seq FROM audit_streams
            WHERE tenant_id = ${tenantId}::uuid AND enabled
            FOR UPDATE SKIP LOCKED`;
          if (rows.length === 0) return { sent: 0, done: true };
          const stream = rows[0];
          const events = await tx.auditEvent.findMany({
            where: { tenantId, seq: { gt: stream.last_seq } },
            orderBy: { seq: 'asc' },
            take: AUDIT_STREAM_BATCH,
          });
          if (events.length === 0) {
            this.pendingGauge?.set({ tenant: tenantId }, 0);
            return { sent: 0, done: true };
          }
          const [tenant, sink] = await Promise.all([
            tx.tenant.findUnique({ where: { id: tenantId }, select: { id: true, slug: true } }),
            tx.sink.findFirst({ where: { id: stream.sink_id, tenantId } }),
          ]);
          if (!tenant || !sink) return { sent: 0, done: true };
          const fail = async (message: string): Promise<StreamOnceResult> => {
            await tx.auditStream.update({
              where: { tenantId },
              data: { lastError: message.slice(0, 500) },
            });
            this.events?.inc({ tenant: tenantId, outcome: 'failed' }, events.length);
            this.logger.warn(
              { tenantId, sinkId: sink.id, err: message.slice(0, 200) },
              'audit stream: export failed; will retry',
            );
            return { sent: 0, done: false, error: message };
          };
          if (!sink.enabled) return fail(`sink "${sink.name}" is disabled`);
          const exporter = this.exporterFor(sink);
          if (!exporter)
            return fail(`sink "${sink.name}" (${sink.kind}) does not accept OTLP logs`);
          const data = auditEventsToLogs(tenant, events as ChainedAuditRecord[]);
          const outcome = await withTimeout(
            exporter.export({
              signal: 'logs',
              protobuf: encodeLogs(data),
              data,
              items: events.length,
            }),
            EXPORT_TIMEOUT_MS,
          ).catch((err: unknown) => err as Error);
          if (outcome instanceof Error) {
            const msg =
              outcome instanceof ExportError
                ? `${outcome.retryable ? 'retryable' : 'permanent'}: ${outcome.message}`
                : outcome.message;
            return fail(msg);
          }
          const last = events[events.length - 1].seq;
          await tx.auditStream.update({
            where: { tenantId },
            data: {
              lastSeq: last,
              lastDeliveredAt: new Date(),
              // A partial rejection is the sink's final word on those events: noted, not retried.
              lastError:
                outcome.rejected > 0
                  ? `sink rejected ${outcome.rejected}: ${outcome.message ?? ''}`
                  : null,
            },
          });
          this.events?.inc({ tenant: tenantId, outcome: 'exported' }, events.length);
          const more = events.length === AUDIT_STREAM_BATCH;
          if (!more) this.pendingGauge?.set({ tenant: tenantId }, 0);
          return { sent: events.length, done: !more };
        },
        { timeout: EXPORT_TIMEOUT_MS + 10_000, maxWait: 5_000 },
      );
    } catch (err) {
      return { sent: 0, done: false, error: (err as Error).message };
    }
  }

  private exporterFor(sink: {
    id: string;
    kind: string;
    config: unknown;
    secretCiphertext: Uint8Array | null;
    updatedAt: Date;
  }): SinkExporter | undefined {
    const cached = this.exporters.get(sink.id);
    if (cached && cached.updatedAt === sink.updatedAt.getTime()) return cached.exporter;
    if (cached) void cached.exporter.close().catch(() => undefined);
    const exporter = this.buildExporter(sink);
    if (!exporter || !exporter.supports('logs')) {
      this.exporters.delete(sink.id);
      return undefined;
    }
    this.exporters.set(sink.id, { updatedAt: sink.updatedAt.getTime(), exporter });
    return exporter;
  }

  /** The exporter the worker would build for this sink; secrets decrypted only in memory. */
  private buildExporter(sink: {
    id: string;
    kind: string;
    config: unknown;
    secretCiphertext: Uint8Array | null;
  }): SinkExporter | undefined {
    const secret = openSinkSecret(this.config.encryptionKey, sink);
    return defaultSinkExporterFactory(sink.kind as SinkKind, mergeSinkConfig(sink.config, secret));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the sink within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
