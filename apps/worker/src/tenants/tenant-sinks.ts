/**
 * Each tenant's sinks as live exporters, from PostgreSQL (issue #5 item 4: "Sink credentials
 * are decrypted only in memory").
 *
 * A Sink row holds non-secret `config` JSON and `secret_ciphertext` (AES-256-GCM under
 * CUSTODIAN_ENCRYPTION_KEY, AAD `sink:<id>`, see libs/auth secrets.ts). Here, and only here,
 * the secret is decrypted and merged into the exporter's config (`headers` merged key by key,
 * so a credential header sits beside the plain ones); the plaintext lives in the exporter's
 * closure, is never logged, never cached elsewhere, never written back.
 *
 * Kinds: built by libs/exporters' factory (otlphttp, otlpgrpc, zipkin; store and kafka when
 * the worker passes their dependencies to `createSinkExporterFactory`). A kind without an exporter
 * resolves to undefined with a warning (logged once per sink version) and a counter, so routes
 * to it are visible, not silently dropped.
 *
 * Reload works like TenantPolicies: a ChangePoller reads `tenants.sinks_changed_at` (bumped by
 * a trigger on every insert, update and delete of sinks) every `reloadIntervalMs` (default
 * 2000 ms). An exporter is rebuilt only when its row changed (updated_at), and the old one is
 * closed; a deleted sink's exporter is closed.
 */
import { openSinkSecret } from '@custodian/auth';
import { SinkRepository, type PrismaClient, type Sink, type SinkKind } from '@custodian/db';
import {
  defaultSinkExporterFactory,
  mergeSinkConfig,
  type SinkExporter,
  type SinkExporterFactory,
} from '@custodian/exporters';
import { ChangePoller, type TenantConfigLogger } from './change-poller';

/** One of a tenant's sinks with its exporter. */
export interface ResolvedSink {
  readonly id: string;
  readonly name: string;
  readonly kind: SinkKind;
  /** Whether restricted (sensitive) values may be sent to this sink. */
  readonly clearedForRestricted: boolean;
  /** A disabled sink is listed (routes can name it) but `resolve` returns no exporter for it. */
  readonly enabled: boolean;
  readonly exporter: SinkExporter;
}

export interface TenantSinksOptions {
  /** CUSTODIAN_ENCRYPTION_KEY (config.encryptionKey): 32 bytes. */
  encryptionKey: Uint8Array;
  logger: TenantConfigLogger;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Time between reload polls; default 2000 ms. */
  reloadIntervalMs?: number;
  /** How far behind the newest seen change stamp each poll re-reads; default 30 s. */
  reloadOverlapMs?: number;
  /** Exporter construction; default: libs/exporters by kind. */
  createExporter?: SinkExporterFactory;
}

export interface TenantSinkStats {
  /** Exporters built (first loads and rebuilds after a change). */
  built: number;
  /** Exporters closed (sink changed or deleted). */
  closed: number;
  /** Sinks of a kind with no exporter yet (kafka, store). */
  unsupportedKind: number;
  /** Sinks whose secret failed to decrypt or whose config could not build an exporter. */
  invalid: number;
  pollFailures: number;
}

interface SinkSlot {
  /** updated_at of the row the exporter was built from. */
  stamp: number;
  resolved?: ResolvedSink;
}

interface TenantEntry {
  changedAt: number;
  slots: Map<string, SinkSlot>;
  list: readonly ResolvedSink[];
  byId: Map<string, ResolvedSink>;
  loadedAt: number;
}

export class TenantSinks {
  private readonly entries = new Map<string, TenantEntry>();
  private readonly loading = new Map<string, Promise<TenantEntry>>();
  private readonly repo: SinkRepository;
  private readonly clock: () => number;
  private readonly createExporter: SinkExporterFactory;
  private readonly poller: ChangePoller;
  private readonly counters: TenantSinkStats = {
    built: 0,
    closed: 0,
    unsupportedKind: 0,
    invalid: 0,
    pollFailures: 0,
  };

  constructor(
    db: PrismaClient,
    private readonly opts: TenantSinksOptions,
  ) {
    if (opts.encryptionKey.length !== 32) {
      throw new RangeError('TenantSinks: the encryption key must be 32 bytes');
    }
    this.repo = new SinkRepository(db);
    this.clock = opts.clock ?? Date.now;
    this.createExporter = opts.createExporter ?? defaultSinkExporterFactory;
    this.poller = new ChangePoller({
      name: 'sinks',
      fetch: (after) => this.repo.tenantsChangedSince(after),
      apply: (changes) => this.applyChanges(changes),
      intervalMs: opts.reloadIntervalMs ?? 2000,
      overlapMs: opts.reloadOverlapMs ?? 30_000,
      logger: opts.logger,
    });
  }

  /** The tenant's sinks that have an exporter (unsupported kinds and broken rows left out). */
  async forTenant(tenantId: string): Promise<readonly ResolvedSink[]> {
    return (this.entries.get(tenantId) ?? (await this.load(tenantId))).list;
  }

  /** The exporter of one enabled sink of this tenant; undefined otherwise. */
  async resolve(tenantId: string, sinkId: string): Promise<SinkExporter | undefined> {
    const e = this.entries.get(tenantId) ?? (await this.load(tenantId));
    const s = e.byId.get(sinkId);
    return s?.enabled ? s.exporter : undefined;
  }

  /** Routes name sinks: the enabled sink of this tenant with that name. */
  async resolveByName(tenantId: string, name: string): Promise<ResolvedSink | undefined> {
    const s = (await this.forTenant(tenantId)).find((x) => x.name === name);
    return s?.enabled ? s : undefined;
  }

  start(): void {
    this.poller.start();
  }

  /** Stops polling and closes every exporter. */
  async stop(): Promise<void> {
    await this.poller.stop();
    await Promise.all([...this.loading.values()].map((p) => p.catch(() => undefined)));
    const closing: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      for (const s of e.list) closing.push(this.close(s));
    }
    this.entries.clear();
    await Promise.all(closing);
  }

  /** Polls once now (the timer does this every reloadIntervalMs). Never throws. */
  reloadNow(): Promise<void> {
    return this.poller.poll();
  }

  stats(): TenantSinkStats {
    return { ...this.counters, pollFailures: this.poller.failures };
  }

  private load(tenantId: string): Promise<TenantEntry> {
    let p = this.loading.get(tenantId);
    if (!p) {
      p = this.fetchAndBuild(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, p);
    }
    return p;
  }

  private async applyChanges(changes: { tenantId: string; changedAt: Date }[]): Promise<void> {
    for (const c of changes) {
      const e = this.entries.get(c.tenantId);
      if (!e || e.changedAt === c.changedAt.getTime()) continue;
      try {
        await this.load(c.tenantId);
      } catch (err) {
        this.opts.logger.error(
          { tenantId: c.tenantId, err: (err as Error).message },
          'tenant sinks reload failed; keeping the current sinks',
        );
      }
    }
  }

  private async fetchAndBuild(tenantId: string): Promise<TenantEntry> {
    // The stamp first: a change racing this read shows up as a newer stamp on the next poll.
    const changedAt = (await this.repo.changedAt(tenantId))?.getTime() ?? 0;
    const rows = await this.repo.list(tenantId);
    const previous = this.entries.get(tenantId);
    const slots = new Map<string, SinkSlot>();
    const toClose: ResolvedSink[] = [];
    for (const row of rows) {
      const rowStamp = row.updatedAt.getTime();
      const old = previous?.slots.get(row.id);
      if (old && old.stamp === rowStamp) {
        slots.set(row.id, old);
        continue;
      }
      if (old?.resolved) toClose.push(old.resolved);
      slots.set(row.id, { stamp: rowStamp, resolved: this.build(tenantId, row) });
    }
    if (previous) {
      for (const [id, slot] of previous.slots) {
        if (!slots.has(id) && slot.resolved) toClose.push(slot.resolved);
      }
    }
    const list: ResolvedSink[] = [];
    for (const slot of slots.values()) if (slot.resolved) list.push(slot.resolved);
    const entry: TenantEntry = {
      changedAt,
      slots,
      list: Object.freeze(list),
      byId: new Map(list.map((s) => [s.id, s])),
      loadedAt: this.clock(),
    };
    this.entries.set(tenantId, entry);
    await Promise.all(toClose.map((s) => this.close(s)));
    return entry;
  }

  private build(tenantId: string, row: Sink): ResolvedSink | undefined {
    const where = { tenantId, sinkId: row.id, sink: row.name, kind: row.kind };
    let secret: unknown;
    try {
      secret = openSinkSecret(this.opts.encryptionKey, row);
    } catch (err) {
      this.counters.invalid++;
      this.opts.logger.error(
        { ...where, err: (err as Error).message },
        'sink secret cannot be decrypted; the sink is left out',
      );
      return undefined;
    }
    let exporter: SinkExporter | undefined;
    try {
      exporter = this.createExporter(row.kind, mergeSinkConfig(row.config, secret), {
        tenantId,
        sinkId: row.id,
      });
    } catch (err) {
      // The error's message may quote config values (an endpoint with credentials): name only.
      this.counters.invalid++;
      this.opts.logger.error(
        { ...where, err: (err as Error).name },
        'sink config cannot build an exporter; the sink is left out',
      );
      return undefined;
    }
    if (!exporter) {
      this.counters.unsupportedKind++;
      this.opts.logger.warn(
        where,
        `sink kind "${row.kind}" has no exporter yet; data routed to it is not delivered`,
      );
      return undefined;
    }
    this.counters.built++;
    return Object.freeze({
      id: row.id,
      name: row.name,
      kind: row.kind,
      clearedForRestricted: row.clearedForRestricted,
      enabled: row.enabled,
      exporter,
    });
  }

  private async close(s: ResolvedSink): Promise<void> {
    this.counters.closed++;
    try {
      await s.exporter.close();
    } catch (err) {
      this.opts.logger.warn(
        { sinkId: s.id, err: (err as Error).message },
        'closing a sink exporter failed',
      );
    }
  }
}
