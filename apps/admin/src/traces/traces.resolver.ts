/**
 * The trace API (issue #6 item 3, "traces" and "revealField"): thin resolvers over
 * TracesService. Reads need `read` on Trace in the tenant (viewers have none: "read-only, no
 * trace content"; the guard refuses and audits them); `revealField` needs `reveal` (owners,
 * security and platform admins), so every other role is refused by the guard and audited as
 * `authz.denied` before anything is looked up.
 */
import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { unauthenticated } from '../auth/errors';
import { TRACE_PAGE_DEFAULT, TRACE_PAGE_MAX } from './trace-input';
import { TracesService } from './traces.service';
import { RevealedFieldType, TraceConnection, TraceFilter, TraceType } from './traces.types';

@Resolver()
export class TracesResolver {
  constructor(private readonly service: TracesService) {}

  @Authorize('read', 'Trace', { tenantArg: 'tenantId' })
  @Query(() => TraceConnection, {
    description:
      "Searches a tenant's stored traces, newest first. Default range: the last 24 hours; at most 31 days.",
    complexity: (o) =>
      Math.min(Number(o.args.first) || TRACE_PAGE_DEFAULT, TRACE_PAGE_MAX) * o.childComplexity,
  })
  traces(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('filter', { type: () => TraceFilter, nullable: true }) filter: TraceFilter | null,
    @Args('first', {
      type: () => Int,
      nullable: true,
      description: `1..${TRACE_PAGE_MAX}, default ${TRACE_PAGE_DEFAULT}.`,
    })
    first: number | null,
    @Args('after', { type: () => String, nullable: true }) after: string | null,
  ): Promise<TraceConnection> {
    return this.service.search(tenantId, filter, first, after);
  }

  @Authorize('read', 'Trace', { tenantArg: 'tenantId' })
  @Query(() => TraceType, { description: 'One trace with its spans; restricted values masked.' })
  trace(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('traceId') traceId: string,
    @CurrentActor() actor: Actor | null,
  ): Promise<TraceType> {
    if (!actor) throw unauthenticated();
    return this.service.get(actor, tenantId, traceId);
  }

  @Authorize('reveal', 'Trace', { tenantArg: 'tenantId' })
  @Mutation(() => RevealedFieldType, {
    description:
      'Returns one restricted value after writing the audit event (trace.reveal, with your reason). Rate limited per user.',
  })
  revealField(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('traceId') traceId: string,
    @Args('spanId') spanId: string,
    @Args('key', { description: 'A key from the span’s restrictedKeys.' }) key: string,
    @Args('reason', {
      description: 'Why you need it (at least 10 characters; kept in the audit log).',
    })
    reason: string,
    @CurrentActor() actor: Actor | null,
  ): Promise<RevealedFieldType> {
    if (!actor) throw unauthenticated();
    return this.service.reveal(actor, tenantId, { traceId, spanId, key, reason });
  }
}
