/**
 * The audit log's hash chain (issue #6 item 4; ../shared/ARCHITECTURE.md, "Storage"). Each
 * tenant has its own chain (and platform-level events one more), so a tenant's owner can verify
 * the tenant's log without reading anyone else's. A row's hash is
 * SHA-256(prev_hash ‖ canonical(event)), where canonical() is a JSON rendering with sorted keys
 * of every column but the two hashes; the first row of a chain links to that chain's genesis
 * hash. Pure: no I/O, so the writer (apps/admin) and any offline verifier share one definition.
 */
import { createHash } from 'node:crypto';

/** The columns of audit_events that the hash covers. */
export interface AuditRecord {
  /** Sequence number (unique, increasing across all chains; gaps are allowed). */
  seq: bigint | number | string;
  tenantId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  fields: readonly string[];
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  outcome: string;
  details: unknown;
  occurredAt: Date;
}

export interface ChainedAuditRecord extends AuditRecord {
  prevHash: Uint8Array;
  hash: Uint8Array;
}

/** Stable JSON: object keys sorted at every depth, undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes the hash covers for one event (everything but the hashes). */
export function canonicalAuditEvent(event: AuditRecord): string {
  return canonicalJson({
    seq: String(event.seq),
    tenantId: event.tenantId,
    actorType: event.actorType,
    actorId: event.actorId,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    fields: [...event.fields],
    reason: event.reason,
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    outcome: event.outcome,
    details: event.details ?? {},
    occurredAt: event.occurredAt.toISOString(),
  });
}

/** The chain a tenant's events (or, for null, the platform's) belong to. */
export function chainKey(tenantId: string | null): string {
  return tenantId ?? 'platform';
}

/** What the first row of a chain links to. Distinct per chain, so prev_hash is globally unique. */
export function genesisHash(tenantId: string | null): Buffer {
  return createHash('sha256')
    .update(`custodian-audit-genesis\0${chainKey(tenantId)}`)
    .digest();
}

export function auditEventHash(prevHash: Uint8Array, event: AuditRecord): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalAuditEvent(event), 'utf8').digest();
}

export interface ChainVerification {
  ok: boolean;
  /** Rows examined (all of them when ok). */
  checked: number;
  /** Sequence number of the first row that does not verify. */
  firstBrokenSeq: string | null;
  reason: string | null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

/**
 * Incremental verification of one chain, for logs too large to hold in memory: `add` each row
 * in seq order; it returns the failure at the first broken row (and keeps returning it).
 */
export class ChainVerifier {
  private expectedPrev: Uint8Array;
  private lastSeq: bigint | null = null;
  private checked = 0;
  private failure: ChainVerification | null = null;

  constructor(private readonly tenantId: string | null) {
    this.expectedPrev = genesisHash(tenantId);
  }

  add(row: ChainedAuditRecord): ChainVerification | null {
    if (this.failure) return this.failure;
    this.checked++;
    const seq = BigInt(row.seq);
    const broken = (reason: string): ChainVerification =>
      (this.failure = { ok: false, checked: this.checked, firstBrokenSeq: seq.toString(), reason });
    if ((row.tenantId ?? null) !== this.tenantId) {
      return broken(
        `row belongs to chain "${chainKey(row.tenantId)}", not "${chainKey(this.tenantId)}"`,
      );
    }
    if (this.lastSeq !== null && seq <= this.lastSeq) {
      return broken('sequence numbers are not increasing');
    }
    if (!equalBytes(row.prevHash, this.expectedPrev)) {
      return broken(
        this.checked === 1
          ? 'first row does not link to the chain genesis (rows missing before it?)'
          : 'prev_hash does not match the previous row (a row was removed or inserted)',
      );
    }
    if (!equalBytes(auditEventHash(row.prevHash, row), row.hash)) {
      return broken('hash does not match the row content (the row was modified)');
    }
    this.expectedPrev = row.hash;
    this.lastSeq = seq;
    return null;
  }

  result(): ChainVerification {
    return this.failure ?? { ok: true, checked: this.checked, firstBrokenSeq: null, reason: null };
  }
}

/**
 * Verifies one chain: `rows` are every row of one tenant's (or the platform's) chain in seq
 * order. Names the first row whose link or content does not match.
 */
export function verifyChain(
  tenantId: string | null,
  rows: Iterable<ChainedAuditRecord>,
): ChainVerification {
  const verifier = new ChainVerifier(tenantId);
  for (const row of rows) if (verifier.add(row)) break;
  return verifier.result();
}
