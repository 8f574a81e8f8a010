/**
 * Tenant policy versions through the admin API (issue #6 item 3, "policies"): submit a version
 * (JSON, YAML, or a Collector config to import), list, get, diff, activate, roll back, dry-run.
 *
 * - Submissions are validated by libs/policy (every problem at once, each with its path and
 *   line) and stored as the NORMALIZED document — what the worker validates and compiles —
 *   with its text as submitted and checksum = policyHash (the `custodian.policy.hash` every
 *   delivered span carries), so a version's checksum names exactly the output it shapes.
 *   A document identical to an existing version (same checksum) is not stored again: the
 *   existing version is returned with `created: false` and says which one it is.
 * - Versions are immutable (the database refuses UPDATE); activation only moves
 *   `tenants.active_policy_id`, which the worker's TenantPolicies sees within ~2 s.
 * - Roll back = activate the version that was active before the current one. The history is
 *   the audit log: every activation and rollback records `{ version, previousVersion }`
 *   (previousVersion null = the platform default), and replaying those events as a stack
 *   (activate pushes the replaced version, rollback pops) gives the one to return to, so
 *   rolling back twice walks two steps back. With no usable history (versions activated
 *   outside this API) it falls back to the highest version below the active one.
 * - Dry-run runs libs/policy's dryRunPolicy — the worker's exact sequence — with the tenant's
 *   own HMAC key (tenant_keys, decrypted here in memory, created on first use exactly as the
 *   worker does), so hashes in the output equal the worker's. Routes to sinks the tenant does
 *   not have (or has disabled) are flagged and counted `no_such_sink`, as the worker counts
 *   them.
 * - Every mutation writes one audit event through AdminAudit (success or failure).
 */
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decryptSecret, encryptSecret, tenantHmacAad } from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import {
  isUuid,
  PolicyVersionRepository,
  PrismaService,
  SinkRepository,
  TenantKeyRepository,
  type JsonObject,
  type PolicyVersion,
  type PrismaClient,
} from '@custodian/db';
import { CONFIG } from '@custodian/ops';
import {
  decodeLogsJson,
  decodeMetricsJson,
  decodeTracesJson,
  encodeLogsJson,
  encodeMetricsJson,
  encodeTracesJson,
} from '@custodian/otlp';
import {
  DEFAULT_POLICY,
  RESTRICTED_PLACEHOLDER,
  applySinkClearance,
  canonicalJson,
  compilePolicy,
  dryRunPolicy,
  fromCollectorConfig,
  parsePolicy,
  policyHash,
  sinkClearedForRestricted,
  validatePolicy,
  type DryRunResult,
  type DryRunSample,
  type PolicyDocument,
  type PolicyProblem,
} from '@custodian/policy';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { adminError, notFound } from '../auth/errors';
import { sortedJson, structuredDiff, unifiedDiff, type PolicyDiffEntry } from './policy-diff';

/** How a submitted source is written. */
export type PolicySubmitFormat = 'json' | 'yaml' | 'collector';

export interface SubmitPolicyInput {
  source: string;
  format: PolicySubmitFormat;
  comment?: string | null;
}

export interface SubmitPolicyOutcome {
  version: PolicyVersion;
  /** False when an identical version existed and was returned instead. */
  created: boolean;
  message: string;
  /** Accepted with a difference worth knowing (Collector import). */
  warnings: PolicyProblem[];
}

export interface PolicyVersionPage {
  items: PolicyVersion[];
  total: number;
  /** The active version's number; null when the platform default applies. */
  activeVersion: number | null;
  /** Pass as `beforeVersion` for the next page; null on the last page. */
  nextBeforeVersion: number | null;
}

export interface PolicyDiff {
  fromVersion: number | null;
  toVersion: number | null;
  fromChecksum: string;
  toChecksum: string;
  identical: boolean;
  changes: PolicyDiffEntry[];
  unified: string;
}

export interface ActivationOutcome {
  /** The version now active; null = the platform default. */
  version: PolicyVersion | null;
  previousVersion: number | null;
  changed: boolean;
  message: string;
}

export interface DryRunRequest {
  /** Run this stored version; else `source`; else the active policy (or the default). */
  version?: number | null;
  /** An unsaved document to try (same formats as submit). */
  source?: string | null;
  format?: PolicySubmitFormat | null;
  /** Run the platform default, whatever is active. */
  useDefault?: boolean | null;
  /** OTLP JSON, as the gateway accepts it on /v1/traces, /v1/logs, /v1/metrics. */
  traces?: string | null;
  logs?: string | null;
  metrics?: string | null;
  /** Clock (ms) of arrival; decisions are taken decision_wait later. Default: now. */
  nowMs?: number | null;
}

export interface DryRunSinkView {
  sink: string;
  /** The tenant has an enabled sink of this name (else the worker counts `no_such_sink`). */
  delivered: boolean;
  exists: boolean;
  enabled: boolean;
  kind: string | null;
  restrictedFields: boolean;
  spans: number;
  logRecords: number;
  dataPoints: number;
  tracesJson: string | null;
  logsJson: string | null;
  metricsJson: string | null;
}

export interface DryRunOutcome {
  /** `version` (a stored one), `source` (unsaved), `active`, `default`. */
  policySource: 'version' | 'source' | 'active' | 'default';
  version: number | null;
  policyHash: string;
  input: DryRunResult['input'];
  sinks: DryRunSinkView[];
  traceDecisions: DryRunResult['traceDecisions'];
  discarded: DryRunResult['discarded'];
  redaction: DryRunResult['redaction'];
  attributeChanges: DryRunResult['attributeChanges'];
  warnings: PolicyProblem[];
}

/** Whether the caller may change the redaction section (default: yes, e.g. internal callers). */
export interface RedactionPermission {
  mayChangeRedaction?: boolean;
}

/** Details recorded with policy.activate / policy.rollback (the rollback history). */
interface ActivationDetails {
  version: number | null;
  previousVersion: number | null;
}

const HMAC_KEY_BYTES = 32;
const MAX_PAGE = 100;

function invalidPolicy(problems: readonly PolicyProblem[]) {
  return adminError(
    'BAD_USER_INPUT',
    `the policy has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
      .slice(0, 3)
      .map((p) => `${p.path || '(document)'}: ${p.message}`)
      .join('; ')}${problems.length > 3 ? '; …' : ''}`,
    {
      errors: problems.map((p) => ({
        path: p.path,
        message: p.message,
        ...(p.line !== undefined ? { line: p.line } : {}),
      })),
    },
  );
}

const badInput = (message: string, errors: { path: string; message: string }[] = []) =>
  adminError('BAD_USER_INPUT', message, errors.length ? { errors } : {});

@Injectable()
export class PoliciesService {
  private readonly db: PrismaClient;
  private readonly versions: PolicyVersionRepository;
  private readonly keys: TenantKeyRepository;
  private readonly sinks: SinkRepository;

  constructor(
    prisma: PrismaService,
    @Inject(CONFIG) private readonly config: Pick<CustodianConfig, 'encryptionKey'>,
    private readonly audit: AdminAudit,
  ) {
    this.db = prisma.client;
    this.versions = new PolicyVersionRepository(this.db);
    this.keys = new TenantKeyRepository(this.db);
    this.sinks = new SinkRepository(this.db);
  }

  /** Parses and validates a source into the normalized document; BAD_USER_INPUT otherwise. */
  parse(
    source: string,
    format: PolicySubmitFormat,
  ): { policy: PolicyDocument; warnings: PolicyProblem[] } {
    if (format === 'collector') {
      const imported = fromCollectorConfig(source);
      if (!imported.policy) throw invalidPolicy(imported.problems);
      // Normalize the import exactly as a stored document is normalized when the worker
      // loads it, so the checksum is the hash the worker computes.
      const checked = validatePolicy(JSON.parse(JSON.stringify(imported.policy)));
      if (!checked.policy) throw invalidPolicy(checked.problems);
      return { policy: checked.policy, warnings: imported.warnings };
    }
    const { policy, problems } = parsePolicy(source, format);
    if (!policy) throw invalidPolicy(problems);
    return { policy, warnings: [] };
  }

  /**
   * True when `doc`'s redaction section differs from what the tenant runs now (its active
   * version, or the platform default). Submitting or activating such a document needs the
   * `redaction` field of PolicyVersion (operators lack it).
   */
  async changesRedaction(tenantId: string, doc: PolicyDocument): Promise<boolean> {
    const current = await this.activeDocument(tenantId);
    return canonicalJson(current.redaction) !== canonicalJson(doc.redaction);
  }

  async submit(
    actor: Actor | null,
    tenantId: string,
    input: SubmitPolicyInput,
    opts: RedactionPermission = {},
  ): Promise<SubmitPolicyOutcome> {
    await this.requireTenant(tenantId);
    let parsed: { policy: PolicyDocument; warnings: PolicyProblem[] };
    try {
      parsed = this.parse(input.source, input.format);
    } catch (err) {
      const problems = (err as { extensions?: { errors?: unknown[] } }).extensions?.errors;
      await this.audit.record(actor, {
        action: 'policy.submit',
        tenantId,
        targetType: 'PolicyVersion',
        outcome: 'failure',
        reason: 'invalid policy',
        details: { format: input.format, problems: problems?.length ?? 0 },
      });
      throw err;
    }
    await this.checkRedactionChange(actor, tenantId, parsed.policy, 'policy.submit', opts);
    const checksum = policyHash(parsed.policy);
    const existing = await this.versions.findByChecksum(tenantId, checksum);
    if (existing) {
      const active = await this.versions.active(tenantId);
      const isActive = active?.policy?.id === existing.id;
      const message = `identical to version ${existing.version}${isActive ? ', the active one' : ''}: nothing stored`;
      await this.audit.record(actor, {
        action: 'policy.submit',
        tenantId,
        targetType: 'PolicyVersion',
        targetId: existing.id,
        details: { version: existing.version, checksum, created: false },
      });
      return { version: existing, created: false, message, warnings: parsed.warnings };
    }
    const comment = input.comment?.trim() ? input.comment.trim().slice(0, 1000) : null;
    const version = await this.versions.create(tenantId, {
      document: JSON.parse(JSON.stringify(parsed.policy)) as JsonObject,
      source: input.source,
      format: input.format === 'json' ? 'json' : 'yaml',
      checksum,
      comment,
      createdBy: actor?.id ?? null,
    });
    await this.audit.record(actor, {
      action: 'policy.submit',
      tenantId,
      targetType: 'PolicyVersion',
      targetId: version.id,
      details: { version: version.version, checksum, created: true, format: input.format },
    });
    return {
      version,
      created: true,
      message: `stored as version ${version.version} (not active until activated)`,
      warnings: parsed.warnings,
    };
  }

  async list(
    tenantId: string,
    opts: { limit?: number | null; beforeVersion?: number | null } = {},
  ): Promise<PolicyVersionPage> {
    const active = await this.requireTenant(tenantId);
    const limit = Math.min(Math.max(opts.limit ?? 20, 1), MAX_PAGE);
    const [items, total] = await Promise.all([
      this.versions.page(tenantId, {
        limit: limit + 1,
        beforeVersion: opts.beforeVersion ?? undefined,
      }),
      this.versions.count(tenantId),
    ]);
    const more = items.length > limit;
    const page = items.slice(0, limit);
    return {
      items: page,
      total,
      activeVersion: active.policy?.version ?? null,
      nextBeforeVersion: more ? page[page.length - 1].version : null,
    };
  }

  /** The tenant's active version id (null: default), for marking list items. */
  async activeId(tenantId: string): Promise<string | null> {
    return (await this.versions.active(tenantId))?.policy?.id ?? null;
  }

  async get(tenantId: string, ref: { version?: number | null; id?: string | null }) {
    const row =
      ref.version !== undefined && ref.version !== null
        ? await this.versions.findByVersion(tenantId, ref.version)
        : ref.id
          ? await this.versions.get(tenantId, ref.id)
          : (await this.versions.active(tenantId))?.policy;
    if (!row) {
      throw notFound(
        ref.version != null
          ? `tenant has no policy version ${ref.version}`
          : ref.id
            ? `tenant has no policy version with id ${ref.id}`
            : 'tenant has no active policy version (the platform default applies)',
      );
    }
    return row;
  }

  /** Diff of two versions' normalized documents; `toVersion` defaults to the active one. */
  async diff(
    tenantId: string,
    fromVersion: number,
    toVersion?: number | null,
  ): Promise<PolicyDiff> {
    const from = await this.get(tenantId, { version: fromVersion });
    const to = await this.get(tenantId, { version: toVersion });
    const changes = structuredDiff(from.document, to.document);
    return {
      fromVersion: from.version,
      toVersion: to.version,
      fromChecksum: from.checksum,
      toChecksum: to.checksum,
      identical: changes.length === 0,
      changes,
      unified: unifiedDiff(
        sortedJson(from.document),
        sortedJson(to.document),
        `version ${from.version}`,
        `version ${to.version}`,
      ),
    };
  }

  /** Activates a stored version (no-op, said so, when it is already active). */
  activate(
    actor: Actor | null,
    tenantId: string,
    version: number,
    opts: RedactionPermission = {},
  ): Promise<ActivationOutcome> {
    return this.switchTo(actor, tenantId, version, 'policy.activate', opts);
  }

  /**
   * Rolls back to the version active before the current one (module comment), or to
   * `toVersion` when given. Rolling back to "the platform default" deactivates.
   */
  async rollback(
    actor: Actor | null,
    tenantId: string,
    toVersion?: number | null,
    opts: RedactionPermission = {},
  ): Promise<ActivationOutcome> {
    const active = await this.requireTenant(tenantId);
    if (toVersion !== undefined && toVersion !== null)
      return this.switchTo(actor, tenantId, toVersion, 'policy.rollback', opts);
    if (!active.policy) {
      throw adminError('CONFLICT', 'nothing to roll back: the tenant runs the platform default');
    }
    const target = await this.previousFromHistory(tenantId, active.policy.version);
    if (target !== undefined)
      return this.switchTo(actor, tenantId, target, 'policy.rollback', opts);
    const below = await this.versions.page(tenantId, {
      limit: 1,
      beforeVersion: active.policy.version,
    });
    return this.switchTo(actor, tenantId, below[0]?.version ?? null, 'policy.rollback', opts);
  }

  /** Runs a policy on a sample the way the worker would (module comment). */
  async dryRun(tenantId: string, req: DryRunRequest): Promise<DryRunOutcome> {
    const active = await this.requireTenant(tenantId);
    const sample = this.decodeSample(req);
    let doc: PolicyDocument;
    let policySource: DryRunOutcome['policySource'];
    let version: number | null = null;
    const warnings: PolicyProblem[] = [];
    if (req.useDefault) {
      doc = DEFAULT_POLICY;
      policySource = 'default';
    } else if (req.version !== undefined && req.version !== null) {
      const row = await this.get(tenantId, { version: req.version });
      doc = this.storedDocument(row);
      policySource = 'version';
      version = row.version;
    } else if (req.source) {
      const parsed = this.parse(req.source, req.format ?? 'yaml');
      doc = parsed.policy;
      warnings.push(...parsed.warnings);
      policySource = 'source';
    } else if (active.policy) {
      doc = this.storedDocument(active.policy);
      policySource = 'active';
      version = active.policy.version;
    } else {
      doc = DEFAULT_POLICY;
      policySource = 'default';
    }

    const hmacKey = await this.tenantHmacKey(tenantId);
    let result: DryRunResult;
    try {
      result = dryRunPolicy(compilePolicy(doc, { hmacKey }), sample, {
        now: req.nowMs ?? Date.now(),
      });
    } finally {
      hmacKey.fill(0);
    }

    const rows = new Map((await this.sinks.list(tenantId)).map((s) => [s.name, s]));
    const discarded = [...result.discarded];
    const sinks: DryRunSinkView[] = result.sinks.map((s) => {
      const row = rows.get(s.sink);
      const delivered = row !== undefined && row.enabled;
      // What the sink really gets: the worker sends restricted values only when the route
      // allows them AND the sink is cleared (libs/policy applySinkClearance), so mirror it.
      let restrictedFields = s.restrictedFields;
      let traces = s.traces;
      let logs = s.logs;
      let metrics = s.metrics;
      if (s.restrictedFields && row && !sinkClearedForRestricted(row)) {
        warnings.push({
          path: 'routes',
          message: `the route to "${s.sink}" allows restricted values, but the sink is not cleared for restricted fields: it receives ${RESTRICTED_PLACEHOLDER} instead`,
        });
        restrictedFields = false;
        if (traces) traces = applySinkClearance({ restrictedFields: true, data: traces }, row).data;
        if (logs) logs = applySinkClearance({ restrictedFields: true, data: logs }, row).data;
        if (metrics)
          metrics = applySinkClearance({ restrictedFields: true, data: metrics }, row).data;
      }
      if (!delivered) {
        for (const [signal, n] of [
          ['traces', s.spans],
          ['logs', s.logRecords],
          ['metrics', s.dataPoints],
        ] as const)
          if (n > 0) discarded.push({ signal, reason: 'no_such_sink', count: n });
      }
      return {
        sink: s.sink,
        delivered,
        exists: row !== undefined,
        enabled: row?.enabled ?? false,
        kind: row?.kind ?? null,
        restrictedFields,
        spans: s.spans,
        logRecords: s.logRecords,
        dataPoints: s.dataPoints,
        tracesJson: traces ? encodeTracesJson(traces) : null,
        logsJson: logs ? encodeLogsJson(logs) : null,
        metricsJson: metrics ? encodeMetricsJson(metrics) : null,
      };
    });
    return {
      policySource,
      version,
      policyHash: result.policyHash,
      input: result.input,
      sinks,
      traceDecisions: result.traceDecisions,
      discarded,
      redaction: result.redaction,
      attributeChanges: result.attributeChanges,
      warnings,
    };
  }

  // -------------------------------------------------------------------------------------------

  private async requireTenant(tenantId: string) {
    if (!isUuid(tenantId)) throw notFound(`no tenant with id ${tenantId}`);
    const active = await this.versions.active(tenantId);
    if (!active) throw notFound(`no tenant with id ${tenantId}`);
    return active;
  }

  private async activeDocument(tenantId: string): Promise<PolicyDocument> {
    const active = await this.requireTenant(tenantId);
    return active.policy ? this.storedDocument(active.policy) : DEFAULT_POLICY;
  }

  /**
   * Operators may change sampling, routes, retention and attributes but not redaction (the
   * ability's `redaction` field of PolicyVersion): a change of the redaction section by a caller
   * without it is refused and audited as denied.
   */
  private async checkRedactionChange(
    actor: Actor | null,
    tenantId: string,
    doc: PolicyDocument,
    action: 'policy.submit' | 'policy.activate' | 'policy.rollback',
    opts: RedactionPermission,
  ): Promise<void> {
    if (opts.mayChangeRedaction !== false) return;
    if (!(await this.changesRedaction(tenantId, doc))) return;
    await this.audit.record(actor, {
      action,
      tenantId,
      targetType: 'PolicyVersion',
      fields: ['redaction'],
      outcome: 'denied',
      reason: 'changing the redaction section needs the redaction permission',
    });
    throw adminError(
      'FORBIDDEN',
      'this changes the redaction section, which your role may not change (owner, admin or security may)',
    );
  }

  /** A stored version's document, validated as the worker validates it before compiling. */
  private storedDocument(row: PolicyVersion): PolicyDocument {
    const checked = validatePolicy(row.document);
    if (!checked.policy) {
      throw adminError(
        'CONFLICT',
        `stored policy version ${row.version} no longer validates; the worker keeps the previous policy for it`,
        { errors: checked.problems.map((p) => ({ path: p.path, message: p.message })) },
      );
    }
    return checked.policy;
  }

  private async switchTo(
    actor: Actor | null,
    tenantId: string,
    version: number | null,
    action: 'policy.activate' | 'policy.rollback',
    opts: RedactionPermission,
  ): Promise<ActivationOutcome> {
    const active = await this.requireTenant(tenantId);
    const previousVersion = active.policy?.version ?? null;
    const row = version === null ? null : await this.get(tenantId, { version });
    // Never activate what the worker would refuse.
    const doc = row ? this.storedDocument(row) : DEFAULT_POLICY;
    await this.checkRedactionChange(actor, tenantId, doc, action, opts);
    if ((row?.id ?? null) === (active.policy?.id ?? null)) {
      return {
        version: row,
        previousVersion,
        changed: false,
        message: row
          ? `version ${row.version} is already active`
          : 'the platform default already applies',
      };
    }
    const ok = row
      ? await this.versions.activate(tenantId, row.id)
      : await this.versions.deactivate(tenantId);
    if (!ok) throw notFound(`no tenant with id ${tenantId}`);
    const details: ActivationDetails = { version: row?.version ?? null, previousVersion };
    await this.audit.record(actor, {
      action,
      tenantId,
      targetType: 'PolicyVersion',
      ...(row ? { targetId: row.id } : {}),
      details: { ...details, ...(row ? { checksum: row.checksum } : {}) },
    });
    const what = row ? `version ${row.version}` : 'the platform default';
    return {
      version: row,
      previousVersion,
      changed: true,
      message: `${what} is active (was ${previousVersion === null ? 'the platform default' : `version ${previousVersion}`}); workers apply it within seconds`,
    };
  }

  /**
   * Replays the tenant's activation history (oldest first) as a stack: activate pushes the
   * version it replaced, rollback pops. The top is what a rollback returns to, provided the
   * history ends at the version active now. undefined when the history cannot tell.
   */
  private async previousFromHistory(
    tenantId: string,
    activeVersion: number,
  ): Promise<number | null | undefined> {
    const events = await this.db.auditEvent.findMany({
      where: {
        tenantId,
        action: { in: ['policy.activate', 'policy.rollback'] },
        outcome: 'success',
      },
      orderBy: { seq: 'desc' },
      take: 500,
      select: { action: true, details: true },
    });
    events.reverse();
    const stack: (number | null)[] = [];
    let last: number | null | undefined;
    for (const e of events) {
      const d = e.details as Partial<ActivationDetails> | null;
      if (!d || d.version === undefined || d.previousVersion === undefined) continue;
      if (e.action === 'policy.activate') stack.push(d.previousVersion);
      else stack.pop();
      last = d.version;
    }
    if (last !== activeVersion || stack.length === 0) return undefined;
    return stack[stack.length - 1];
  }

  private decodeSample(req: DryRunRequest): DryRunSample {
    const sample: DryRunSample = {};
    const errors: { path: string; message: string }[] = [];
    const decode = <T>(field: 'traces' | 'logs' | 'metrics', fn: (s: string) => T) => {
      const text = req[field];
      if (text === undefined || text === null || text === '') return undefined;
      try {
        return fn(text);
      } catch (err) {
        errors.push({ path: field, message: `not valid OTLP JSON: ${(err as Error).message}` });
        return undefined;
      }
    };
    const traces = decode('traces', decodeTracesJson);
    const logs = decode('logs', decodeLogsJson);
    const metrics = decode('metrics', decodeMetricsJson);
    if (errors.length) throw badInput('the sample is not valid OTLP JSON', errors);
    if (traces) sample.traces = traces;
    if (logs) sample.logs = logs;
    if (metrics) sample.metrics = metrics;
    if (!traces && !logs && !metrics) {
      throw badInput('give a sample: traces, logs or metrics as OTLP JSON', [
        { path: 'traces', message: 'no sample given' },
      ]);
    }
    return sample;
  }

  /** The tenant's HMAC key, as the worker gets it (tenant-policies.ts); caller zeroes it. */
  private async tenantHmacKey(tenantId: string): Promise<Buffer> {
    const key = this.config.encryptionKey;
    const row = await this.keys.getOrCreate(tenantId, () => {
      const raw = randomBytes(HMAC_KEY_BYTES);
      try {
        return encryptSecret(key, raw, tenantHmacAad(tenantId));
      } finally {
        raw.fill(0);
      }
    });
    try {
      return decryptSecret(key, row.hmacKeyCiphertext, tenantHmacAad(tenantId));
    } catch {
      throw adminError(
        'CONFLICT',
        "the tenant's HMAC key cannot be decrypted with this process's CUSTODIAN_ENCRYPTION_KEY",
      );
    }
  }
}
