/**
 * The audit log over GraphQL (issue #6 item 4). Reading it is itself permissioned: owners,
 * admins and security of a tenant read that tenant's log; platform admins read everything,
 * including platform-level events (sign-ins, tenant creation). Exports and verifications are
 * audited too.
 */
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { badInput } from '../auth/errors';
import { AdminAudit } from './admin-audit.service';
import { AuditLogService } from './audit-log.service';
import { AuditChainVerification, AuditEventFilter, AuditEventPage } from './audit.types';

export const AUDIT_PAGE_MAX = 500;
export const AUDIT_EXPORT_MAX = 10_000;

function pageSize(first: number, max: number): number {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(`first: expected 1..${max}, got ${first}`);
  }
  return first;
}

@Resolver()
export class AuditResolver {
  constructor(
    private readonly log: AuditLogService,
    private readonly audit: AdminAudit,
  ) {}

  @Authorize('read', 'AuditEvent', { tenantArg: 'filter.tenantId' })
  @Query(() => AuditEventPage, {
    description: 'Audit events, newest first, filtered; page with `after: nextCursor`.',
    complexity: (o) => Math.min(Number(o.args.first) || 50, AUDIT_PAGE_MAX) * o.childComplexity,
  })
  auditEvents(
    @CurrentActor() actor: Actor,
    @Args('filter', { type: () => AuditEventFilter, defaultValue: {} }) filter: AuditEventFilter,
    @Args('first', { type: () => Int, defaultValue: 50 }) first: number,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<AuditEventPage> {
    return this.log.list(actor.ability, filter, pageSize(first, AUDIT_PAGE_MAX), after);
  }

  @Authorize('read', 'AuditEvent', { tenantArg: 'filter.tenantId' })
  @Query(() => String, {
    description: `Matching audit events as JSON lines (one object per line, newest first, at most ${AUDIT_EXPORT_MAX}). The export itself is audited.`,
  })
  async exportAuditEvents(
    @CurrentActor() actor: Actor,
    @Args('filter', { type: () => AuditEventFilter, defaultValue: {} }) filter: AuditEventFilter,
    @Args('limit', { type: () => Int, defaultValue: 1000 }) limit: number,
  ): Promise<string> {
    const n = pageSize(limit, AUDIT_EXPORT_MAX);
    await this.audit.record(actor, {
      action: 'audit.export',
      tenantId: filter.tenantId ?? null,
      details: { filter: { ...filter }, limit: n },
    });
    const { items } = await this.log.list(actor.ability, filter, n);
    return items.map((e) => JSON.stringify({ ...e, details: JSON.parse(e.details) })).join('\n');
  }

  @Authorize('read', 'AuditEvent', { tenantArg: 'tenantId' })
  @Query(() => AuditChainVerification, {
    description:
      "Recompute the tenant's audit hash chain (omit tenantId for the platform chain: platform admins) and name the first broken link.",
  })
  async verifyAuditChain(
    @CurrentActor() actor: Actor,
    @Args('tenantId', { type: () => ID, nullable: true }) tenantId?: string | null,
  ): Promise<AuditChainVerification> {
    const result = await this.log.verify(tenantId ?? null);
    await this.audit.record(actor, {
      action: 'audit.verify',
      tenantId: tenantId ?? null,
      outcome: result.ok ? 'success' : 'failure',
      details: { ...result },
    });
    return result;
  }
}
