/**
 * AdminAudit: the one service every audit event goes through (../shared/CONVENTIONS.md,
 * "Admin API"). Appends are serialized per chain with a transaction-scoped advisory lock, so
 * two concurrent events of one tenant can never link to the same predecessor (the chain never
 * forks; a UNIQUE index on prev_hash makes the database refuse a fork even if the lock were
 * bypassed). The seq is drawn inside the lock and covered by the hash, so reordering rows is
 * detected too. Callers await `record` before returning a sensitive value.
 */
import { Injectable } from '@nestjs/common';
import { auditEventHash, chainKey, genesisHash, type AuditRecord } from '@custodian/audit';
import { isUuid, PrismaService, type Prisma, type PrismaClient } from '@custodian/db';
import type { GraphQLError } from 'graphql';
import type { Actor, RequestMeta } from '../auth/actor';
import { forbidden } from '../auth/errors';
import type { AuditEventInput } from './audit-actions';

export type { AuditAction, AuditEventInput, AuditOutcome } from './audit-actions';

/** A Prisma client or an interactive transaction's client. */
export type AuditDb = PrismaClient | Prisma.TransactionClient;

export interface RecordOptions {
  /** Request facts when there is no actor (failed logins). Defaults to the actor's. */
  meta?: RequestMeta;
  /** Write inside the caller's transaction (the event commits with the change it records). */
  tx?: Prisma.TransactionClient;
  /**
   * Actor type when `actor` is null: 'anonymous' (default), 'user' (sign-in events, with
   * `actorId`) or 'system' (CLI bootstrap).
   */
  actorType?: 'anonymous' | 'user' | 'system';
  actorId?: string;
}

@Injectable()
export class AdminAudit {
  constructor(private readonly prisma: PrismaService) {}

  async record(
    actor: Actor | null,
    event: AuditEventInput,
    opts: RecordOptions = {},
  ): Promise<void> {
    const meta = opts.meta ?? actor?.meta;
    const row: Omit<AuditRecord, 'seq'> = {
      tenantId: event.tenantId,
      actorType: actor ? actor.kind : (opts.actorType ?? 'anonymous'),
      actorId: actor ? actor.id : (opts.actorId ?? null),
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      fields: event.fields ?? [],
      reason: event.reason ?? null,
      ip: meta?.ip ?? null,
      userAgent: meta?.userAgent ?? null,
      requestId: meta?.requestId ?? null,
      outcome: event.outcome ?? 'success',
      details: {
        ...(actor ? { actorEmail: actor.email } : {}),
        ...(actor?.tokenId ? { serviceTokenId: actor.tokenId } : {}),
        ...(event.details ?? {}),
      },
      // Millisecond precision: what timestamptz(3) stores, so the hash re-verifies.
      occurredAt: new Date(Date.now()),
    };
    if (opts.tx) await appendAuditEvent(opts.tx, row);
    else await this.prisma.client.$transaction((tx) => appendAuditEvent(tx, row));
  }

  /**
   * Records a permission denial (outcome 'denied', action 'authz.denied') and returns the
   * FORBIDDEN error to throw: `throw await audit.denied(actor, …)`. The event goes to the
   * targeted tenant's chain when that tenant exists (its owners see the attempt), else to the
   * platform chain with the id in `details`.
   */
  async denied(
    actor: Actor | null,
    denial: {
      tenantId: string | null;
      message: string;
      operation?: string;
      targetType?: string;
      targetId?: string;
      details?: Record<string, unknown>;
    },
  ): Promise<GraphQLError> {
    let tenantId = denial.tenantId;
    if (tenantId !== null && !isUuid(tenantId)) tenantId = null;
    if (tenantId !== null) {
      const exists = await this.prisma.client.tenant.count({ where: { id: tenantId } });
      if (exists === 0) tenantId = null;
    }
    await this.record(actor, {
      action: 'authz.denied',
      tenantId,
      outcome: 'denied',
      targetType: denial.targetType,
      targetId: denial.targetId,
      reason: denial.message,
      details: {
        ...(denial.operation ? { operation: denial.operation } : {}),
        ...(denial.tenantId !== tenantId ? { targetTenantId: denial.tenantId } : {}),
        ...(denial.details ?? {}),
      },
    });
    return forbidden(denial.message);
  }
}

/**
 * Appends one event to its chain. Must run inside a transaction: the advisory lock is released
 * at commit. Exported for the CLI's bootstrap, which writes without a Nest container.
 */
export async function appendAuditEvent(
  tx: Prisma.TransactionClient,
  row: Omit<AuditRecord, 'seq'>,
): Promise<bigint> {
  const key = `custodian-audit:${chainKey(row.tenantId)}`;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
  const last =
    row.tenantId === null
      ? await tx.$queryRaw<{ hash: Uint8Array }[]>`
          SELECT hash FROM audit_events WHERE tenant_id IS NULL ORDER BY seq DESC LIMIT 1`
      : await tx.$queryRaw<{ hash: Uint8Array }[]>`
          SELECT hash FROM audit_events WHERE tenant_id = ${row.tenantId}::uuid
          ORDER BY seq DESC LIMIT 1`;
  const prevHash = last.length > 0 ? Buffer.from(last[0].hash) : genesisHash(row.tenantId);
  const [{ seq }] = await tx.$queryRaw<{ seq: bigint }[]>`
    SELECT nextval(pg_get_serial_sequence('audit_events', 'seq')) AS seq`;
  const record: AuditRecord = { ...row, seq };
  const hash = auditEventHash(prevHash, record);
  await tx.auditEvent.create({
    data: {
      seq,
      tenantId: row.tenantId,
      actorType: row.actorType,
      actorId: row.actorId,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      fields: [...row.fields],
      reason: row.reason,
      ip: row.ip,
      userAgent: row.userAgent,
      requestId: row.requestId,
      outcome: row.outcome,
      details: row.details as Prisma.InputJsonValue,
      occurredAt: row.occurredAt,
      prevHash: new Uint8Array(prevHash),
      hash: new Uint8Array(hash),
    },
  });
  return BigInt(seq);
}
