/**
 * A tenant's dead letters through the admin API (issue #6 item 3 "dead letters"): list,
 * redrive, purge. The admin never exports: it holds only libs/delivery's DeadLetterControl,
 * which queues redriven batches on the sink's retry queue for the workers to deliver (their
 * SinkDelivery rescans the lanes every few seconds). Keys are those of the workers:
 * CUSTODIAN_DELIVERY_KEY_PREFIX and CUSTODIAN_DELIVERY_MAX_ATTEMPTS must match theirs (they
 * come from the same settings).
 *
 * The sink must exist in the tenant (`where: { id, tenantId }` through SinksService), so an id
 * from another tenant is NOT_FOUND, as everywhere in the API. Mutations are audited with the
 * number of batches they moved, never their content.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import { DeadLetterControl, type DeadLetterInfo } from '@custodian/delivery';
import { CONFIG } from '@custodian/ops';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { badInput } from '../auth/errors';
import { SinksService } from '../sinks/sinks.service';
import type { DeadLetterPageType, DeadLetterType } from './dead-letters.types';

/** Largest page; also the most ids one redrive or purge may name. */
export const MAX_DEAD_LETTER_PAGE = 1000;
const DEFAULT_PAGE = 100;

function toType(e: DeadLetterInfo): DeadLetterType {
  return {
    id: e.id,
    signal: e.signal,
    items: e.items,
    reason: e.reason,
    error: e.error,
    firstFailedAt: new Date(e.firstFailedAt),
    deadLetteredAt: new Date(e.deadLetteredAt),
    attempts: e.attempts,
  };
}

function checkIds(ids: readonly string[] | null | undefined): string[] | undefined {
  if (ids === null || ids === undefined) return undefined;
  const bad = ids.filter((id) => !/^\d{1,20}$/.test(id));
  const problems = bad.map((id) => `ids: "${id}" is not a dead-letter id`);
  if (ids.length > MAX_DEAD_LETTER_PAGE)
    problems.push(`ids: at most ${MAX_DEAD_LETTER_PAGE} per call, got ${ids.length}`);
  if (problems.length) throw badInput('invalid dead-letter ids', problems);
  return [...new Set(ids)];
}

@Injectable()
export class DeadLettersService implements OnApplicationShutdown {
  private readonly control: DeadLetterControl;

  constructor(
    @Inject(CONFIG)
    config: Pick<CustodianConfig, 'redisUrl' | 'deliveryKeyPrefix' | 'deliveryMaxAttempts'>,
    private readonly sinks: SinksService,
    private readonly audit: AdminAudit,
  ) {
    this.control = new DeadLetterControl({
      redisUrl: config.redisUrl,
      config: { keyPrefix: config.deliveryKeyPrefix, maxAttempts: config.deliveryMaxAttempts },
    });
  }

  async list(
    tenantId: string,
    sinkId: string,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<DeadLetterPageType> {
    const problems: string[] = [];
    if (
      first !== null &&
      first !== undefined &&
      (!Number.isInteger(first) || first < 1 || first > MAX_DEAD_LETTER_PAGE)
    )
      problems.push(`first: expected 1..${MAX_DEAD_LETTER_PAGE}, got ${first}`);
    if (after !== null && after !== undefined && !/^\d{1,20}$/.test(after))
      problems.push('after: expected the nextCursor of a previous page');
    if (problems.length) throw badInput('invalid dead-letter page', problems);
    await this.sinks.get(tenantId, sinkId);
    const [page, counts] = await Promise.all([
      this.control.list(tenantId, sinkId, {
        limit: first ?? DEFAULT_PAGE,
        cursor: after ?? undefined,
      }),
      this.control.counts(tenantId, sinkId),
    ]);
    return {
      entries: page.entries.map(toType),
      nextCursor: page.nextCursor ?? null,
      total: counts.deadLetters,
      retryQueue: counts.retryQueue,
      dropped: counts.dropped,
    };
  }

  redrive(
    actor: Actor | null,
    tenantId: string,
    sinkId: string,
    ids: readonly string[] | null | undefined,
  ): Promise<number> {
    return this.act('redrive', actor, tenantId, sinkId, ids);
  }

  purge(
    actor: Actor | null,
    tenantId: string,
    sinkId: string,
    ids: readonly string[] | null | undefined,
  ): Promise<number> {
    return this.act('purge', actor, tenantId, sinkId, ids);
  }

  /** Redrive or purge (`ids`, or all) of a sink of the tenant, audited with the count. */
  private async act(
    op: 'redrive' | 'purge',
    actor: Actor | null,
    tenantId: string,
    sinkId: string,
    ids: readonly string[] | null | undefined,
  ): Promise<number> {
    const wanted = checkIds(ids);
    await this.sinks.get(tenantId, sinkId);
    const n = await this.control[op](tenantId, sinkId, wanted);
    await this.audit.record(actor, {
      action: `dead_letter.${op}`,
      tenantId,
      targetType: 'Sink',
      targetId: sinkId,
      details: {
        [op === 'redrive' ? 'redriven' : 'purged']: n,
        ...(wanted ? { ids: wanted } : { all: true }),
      },
    });
    return n;
  }

  onApplicationShutdown(): Promise<void> {
    return this.control.close();
  }
}
