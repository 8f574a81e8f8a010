/**
 * Reading the audit log: filtered, cursor-paginated listing (newest first), JSON-lines export
 * and chain verification. Callers pass the ability's `where` fragment; rows are sanitized by the
 * caller's field rules (ip and user agent are restricted fields).
 */
import { Injectable } from '@nestjs/common';
import { ChainVerifier, type ChainVerification } from '@custodian/audit';
import { PrismaService, type Prisma } from '@custodian/db';
import { sanitize } from '../auth/sanitize';
import type { AdminAbility } from '../auth/abilities';
import { accessibleWhere } from '../auth/abilities';
import { badInput } from '../auth/errors';
import type { AuditEventFilter, AuditEventView } from './audit.types';

const VERIFY_BATCH = 1000;

type AuditRow = Prisma.AuditEventGetPayload<object>;

export function auditView(ability: AdminAbility, row: AuditRow): AuditEventView {
  return sanitize(ability, 'AuditEvent', {
    seq: row.seq.toString(),
    tenantId: row.tenantId,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    fields: row.fields,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    outcome: row.outcome,
    details: JSON.stringify(row.details ?? {}),
    occurredAt: row.occurredAt,
    prevHash: Buffer.from(row.prevHash).toString('hex'),
    hash: Buffer.from(row.hash).toString('hex'),
  });
}

@Injectable()
export class AuditLogService {
  constructor(private readonly prisma: PrismaService) {}

  where(
    ability: AdminAbility,
    filter: AuditEventFilter,
    before?: bigint,
  ): Prisma.AuditEventWhereInput {
    const and: Prisma.AuditEventWhereInput[] = [
      accessibleWhere(ability, 'read', 'AuditEvent') as Prisma.AuditEventWhereInput,
    ];
    if (filter.tenantId) and.push({ tenantId: filter.tenantId });
    if (filter.actorId) and.push({ actorId: filter.actorId });
    if (filter.action) {
      and.push(
        filter.action.endsWith('.')
          ? { action: { startsWith: filter.action } }
          : { action: filter.action },
      );
    }
    if (filter.outcome) and.push({ outcome: filter.outcome });
    if (filter.from) and.push({ occurredAt: { gte: filter.from } });
    if (filter.to) and.push({ occurredAt: { lt: filter.to } });
    if (before !== undefined) and.push({ seq: { lt: before } });
    return { AND: and };
  }

  async list(
    ability: AdminAbility,
    filter: AuditEventFilter,
    first: number,
    after?: string | null,
  ): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    let before: bigint | undefined;
    if (after) {
      if (!/^\d{1,19}$/.test(after)) throw badInput('after: expected a cursor from nextCursor');
      before = BigInt(after);
    }
    const rows = await this.prisma.client.auditEvent.findMany({
      where: this.where(ability, filter, before),
      orderBy: { seq: 'desc' },
      take: first + 1,
    });
    const page = rows.slice(0, first);
    return {
      items: page.map((r) => auditView(ability, r)),
      nextCursor: rows.length > first ? page[page.length - 1].seq.toString() : null,
    };
  }

  /** Walks one chain in seq order, in batches, and names the first broken link. */
  async verify(tenantId: string | null): Promise<ChainVerification> {
    const verifier = new ChainVerifier(tenantId);
    let after = -1n;
    for (;;) {
      const rows = await this.prisma.client.auditEvent.findMany({
        where: { tenantId, seq: { gt: after } },
        orderBy: { seq: 'asc' },
        take: VERIFY_BATCH,
      });
      for (const r of rows) {
        if (verifier.add({ ...r, fields: r.fields })) return verifier.result();
      }
      if (rows.length < VERIFY_BATCH) return verifier.result();
      after = rows[rows.length - 1].seq;
    }
  }
}
