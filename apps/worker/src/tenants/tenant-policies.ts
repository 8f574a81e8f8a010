/**
 * Each tenant's compiled policy, from PostgreSQL (issue #5 item 1): "Tenant policies come from
 * Postgres and are reloaded within 5 s of a change, without a restart. A tenant with no policy
 * of its own gets the platform default" (DEFAULT_POLICY: every detector masks, GenAI content
 * restricted, nothing sampled out, 30-day retention).
 *
 * - A policy is compiled once per (policy version, HMAC key) and cached; `get` on the hot path
 *   is one Map lookup once a tenant is loaded.
 * - The HMAC key for redaction's `hash` action is per tenant (tenant_keys, created on first
 *   use), stored encrypted under CUSTODIAN_ENCRYPTION_KEY and decrypted only here, in memory.
 *   Deleting the row erases it; the next load mints a new one, so old hashes stop matching.
 * - Reload: a ChangePoller reads `tenants.policy_changed_at` (bumped by triggers on activation
 *   and on key changes) every `reloadIntervalMs` (default 2000 ms, so a change applies within
 *   ~2 s plus a query, inside the 5 s the issue asks).
 * - Failure never makes a tenant less safe: a stored policy that fails to validate or compile
 *   keeps the last good compiled policy (logged, counted); with nothing loaded yet, the tenant
 *   gets the platform default, never "no policy". A key that cannot be decrypted (wrong
 *   CUSTODIAN_ENCRYPTION_KEY) keeps the last good policy or fails `get`, since hashing under a
 *   made-up key would silently break joins.
 * - Such a failure is permanent until something changes: it is remembered per tenant, so `get`
 *   rejects at once with TenantPolicyUnavailableError (the pipeline dead-letters the tenant's
 *   records and keeps the partition flowing) instead of querying and logging per record; the
 *   next change of the tenant's stamp (a key rotated or deleted, a policy activated) retries.
 *   Database errors are not remembered: they are transient and the caller retries.
 */
import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, tenantHmacAad } from '@custodian/auth';
import {
  isUuid,
  PolicyVersionRepository,
  TenantKeyRepository,
  type PrismaClient,
} from '@custodian/db';
import {
  type CompiledPolicy,
  DEFAULT_POLICY,
  type PolicyDocument,
  compilePolicy,
  validatePolicy,
} from '@custodian/policy';
import { ChangePoller, type TenantConfigLogger } from './change-poller';

/** A tenant's compiled policy and where it came from. */
export interface CompiledTenantPolicy {
  readonly tenantId: string;
  readonly compiled: CompiledPolicy;
  /**
   * `tenant`: the tenant's active version; `default`: the tenant has none; `default-fallback`:
   * the tenant's active version is broken and nothing better was loaded before.
   */
  readonly source: 'tenant' | 'default' | 'default-fallback';
  /** The active policy version's id and number (null for the default). */
  readonly policyId: string | null;
  readonly version: number | null;
  /** SHA-256 of the normalized document (stamped on output as custodian.policy.hash). */
  readonly hash: string;
  /** Clock time the policy was compiled. */
  readonly loadedAt: number;
}

/** The tenant does not exist (deleted, or an id that never was). */
export class UnknownTenantError extends Error {
  constructor(readonly tenantId: string) {
    super(`unknown tenant ${tenantId}`);
    this.name = 'UnknownTenantError';
  }
}

/** No usable policy for the tenant: its HMAC key cannot be decrypted and nothing was loaded. */
export class TenantPolicyUnavailableError extends Error {
  constructor(
    readonly tenantId: string,
    message: string,
  ) {
    super(message);
    this.name = 'TenantPolicyUnavailableError';
  }
}

export interface TenantPoliciesOptions {
  /** CUSTODIAN_ENCRYPTION_KEY (config.encryptionKey): 32 bytes. */
  encryptionKey: Uint8Array;
  logger: TenantConfigLogger;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Time between reload polls; default 2000 ms. */
  reloadIntervalMs?: number;
  /** How far behind the newest seen change stamp each poll re-reads; default 30 s. */
  reloadOverlapMs?: number;
}

/** Counters for the ops metrics (`tenant_policy_*_total`). */
export interface TenantPolicyStats {
  /** Policies compiled (first loads and reloads). */
  compiled: number;
  /** Reloads triggered by a change. */
  reloads: number;
  /** Stored policies that failed validation or compilation (previous policy kept). */
  compileFailures: number;
  /** HMAC keys that failed to decrypt. */
  keyFailures: number;
  /** Polls that failed (database unreachable). */
  pollFailures: number;
}

interface Entry {
  policy: CompiledTenantPolicy;
  /** tenants.policy_changed_at when loaded; a poll reloads when it differs. */
  changedAt: number;
  /** What the compiled form depends on: policy id + key stamp. */
  cacheKey: string;
}

const HMAC_KEY_BYTES = 32;

export class TenantPolicies {
  private readonly entries = new Map<string, Entry>();
  /** Tenants whose policy cannot be built (key undecryptable), until their stamp changes. */
  private readonly failed = new Map<
    string,
    { error: TenantPolicyUnavailableError; changedAt: number }
  >();
  private readonly loading = new Map<string, Promise<Entry>>();
  private readonly policiesRepo: PolicyVersionRepository;
  private readonly keysRepo: TenantKeyRepository;
  private readonly clock: () => number;
  private readonly poller: ChangePoller;
  private readonly counters: TenantPolicyStats = {
    compiled: 0,
    reloads: 0,
    compileFailures: 0,
    keyFailures: 0,
    pollFailures: 0,
  };

  constructor(
    private readonly db: PrismaClient,
    private readonly opts: TenantPoliciesOptions,
  ) {
    if (opts.encryptionKey.length !== 32) {
      throw new RangeError('TenantPolicies: the encryption key must be 32 bytes');
    }
    this.policiesRepo = new PolicyVersionRepository(db);
    this.keysRepo = new TenantKeyRepository(db);
    this.clock = opts.clock ?? Date.now;
    this.poller = new ChangePoller({
      name: 'policies',
      fetch: (after) => this.policiesRepo.tenantsChangedSince(after),
      apply: (changes) => this.applyChanges(changes),
      intervalMs: opts.reloadIntervalMs ?? 2000,
      overlapMs: opts.reloadOverlapMs ?? 30_000,
      logger: opts.logger,
    });
  }

  /** The tenant's compiled policy: cached after the first load, refreshed by the poller. */
  get(tenantId: string): Promise<CompiledTenantPolicy> {
    const e = this.entries.get(tenantId);
    if (e) return Promise.resolve(e.policy);
    const f = this.failed.get(tenantId);
    if (f) return Promise.reject(f.error);
    return this.load(tenantId).then((entry) => entry.policy);
  }

  /** The cached policy without I/O (undefined until `get` loaded it). */
  peek(tenantId: string): CompiledTenantPolicy | undefined {
    return this.entries.get(tenantId)?.policy;
  }

  /** Starts polling for changes. */
  start(): void {
    this.poller.start();
  }

  /** Stops polling; waits for a poll in flight. */
  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** Polls once now (the timer does this every reloadIntervalMs). Never throws. */
  reloadNow(): Promise<void> {
    return this.poller.poll();
  }

  stats(): TenantPolicyStats {
    return { ...this.counters, pollFailures: this.poller.failures };
  }

  private load(tenantId: string): Promise<Entry> {
    let p = this.loading.get(tenantId);
    if (!p) {
      p = this.fetchAndCompile(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, p);
    }
    return p;
  }

  private async applyChanges(changes: { tenantId: string; changedAt: Date }[]): Promise<void> {
    for (const c of changes) {
      const e = this.entries.get(c.tenantId) ?? this.failed.get(c.tenantId);
      if (!e || e.changedAt === c.changedAt.getTime()) continue;
      this.counters.reloads++;
      try {
        await this.load(c.tenantId);
      } catch (err) {
        // Keep the entry we have; the next change (or poll overlap) retries.
        this.opts.logger.error(
          { tenantId: c.tenantId, err: (err as Error).message },
          'tenant policy reload failed; keeping the current policy',
        );
      }
    }
  }

  private async fetchAndCompile(tenantId: string): Promise<Entry> {
    // A record whose tenant header is not a uuid (not from a gateway) names no tenant: the
    // query would fail with a syntax error, which read as transient and was retried forever,
    // holding the partition.
    if (!isUuid(tenantId)) throw new UnknownTenantError(tenantId);
    const previous = this.entries.get(tenantId);
    const active = await this.policiesRepo.active(tenantId);
    if (!active) throw new UnknownTenantError(tenantId);
    const changedAt = active.policyChangedAt.getTime();

    const keyRow = await this.keysRepo.getOrCreate(tenantId, () =>
      this.mintKeyCiphertext(tenantId),
    );
    const keyStamp = `${keyRow.createdAt.getTime()}.${keyRow.rotatedAt?.getTime() ?? 0}`;
    const cacheKey = `${active.policy?.id ?? 'default'}@${keyStamp}`;
    if (previous && previous.cacheKey === cacheKey) {
      const same = { ...previous, changedAt };
      this.entries.set(tenantId, same);
      return same;
    }

    let hmacKey: Buffer;
    try {
      hmacKey = decryptSecret(
        this.opts.encryptionKey,
        keyRow.hmacKeyCiphertext,
        tenantHmacAad(tenantId),
      );
    } catch (err) {
      this.counters.keyFailures++;
      this.opts.logger.error(
        { tenantId, err: (err as Error).message },
        'tenant HMAC key cannot be decrypted (wrong CUSTODIAN_ENCRYPTION_KEY?)',
      );
      if (previous) return this.keep(tenantId, previous, changedAt);
      const error = new TenantPolicyUnavailableError(
        tenantId,
        `tenant ${tenantId}: HMAC key cannot be decrypted; its data cannot be processed safely`,
      );
      this.failed.set(tenantId, { error, changedAt });
      throw error;
    }

    let source: CompiledTenantPolicy['source'] = active.policy ? 'tenant' : 'default';
    let doc: PolicyDocument = DEFAULT_POLICY;
    let compiled: CompiledPolicy | undefined;
    if (active.policy) {
      const failure = (reason: string, detail: object): void => {
        this.counters.compileFailures++;
        this.opts.logger.error(
          { tenantId, policyId: active.policy?.id, version: active.policy?.version, ...detail },
          `stored tenant policy ${reason}; ${previous ? 'keeping the previous policy' : 'using the platform default'}`,
        );
      };
      const checked = validatePolicy(active.policy.document);
      if (!checked.policy) {
        failure('is invalid', { problems: checked.problems.slice(0, 10) });
      } else {
        try {
          doc = checked.policy;
          compiled = compilePolicy(doc, { hmacKey });
        } catch (err) {
          failure('failed to compile', { err: (err as Error).message });
        }
      }
      if (!compiled) {
        if (previous) return this.keep(tenantId, previous, changedAt);
        source = 'default-fallback';
        doc = DEFAULT_POLICY;
      }
    }
    compiled ??= compilePolicy(doc, { hmacKey });
    this.counters.compiled++;
    const entry: Entry = {
      changedAt,
      // A fallback is retried on the next change, never cached as the version's result.
      cacheKey: source === 'default-fallback' ? `fallback:${cacheKey}` : cacheKey,
      policy: Object.freeze({
        tenantId,
        compiled,
        source,
        policyId: source === 'tenant' ? (active.policy?.id ?? null) : null,
        version: source === 'tenant' ? (active.policy?.version ?? null) : null,
        hash: compiled.hash,
        loadedAt: this.clock(),
      }),
    };
    this.entries.set(tenantId, entry);
    this.failed.delete(tenantId);
    return entry;
  }

  /** Keeps the previous policy, remembering the stamp so the same broken state is not retried. */
  private keep(tenantId: string, previous: Entry, changedAt: number): Entry {
    const kept = { ...previous, changedAt };
    this.entries.set(tenantId, kept);
    this.failed.delete(tenantId);
    return kept;
  }

  private mintKeyCiphertext(tenantId: string): Uint8Array {
    const raw = randomBytes(HMAC_KEY_BYTES);
    try {
      return encryptSecret(this.opts.encryptionKey, raw, tenantHmacAad(tenantId));
    } finally {
      raw.fill(0);
    }
  }
}
