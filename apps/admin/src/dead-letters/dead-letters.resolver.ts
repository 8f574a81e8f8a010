/**
 * The dead-letters API (issue #6 item 3): thin resolvers over DeadLettersService. Per the
 * role matrix (../auth/abilities.ts) owners, admins and operators read, redrive (`redrive`)
 * and purge (`delete`) a tenant's dead letters; security reads them; analysts and viewers
 * do not see them at all.
 */
import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { DeadLettersService } from './dead-letters.service';
import { DeadLetterPageType } from './dead-letters.types';

@Resolver()
export class DeadLettersResolver {
  constructor(private readonly service: DeadLettersService) {}

  @Authorize('read', 'DeadLetter', { tenantArg: 'tenantId' })
  @Query(() => DeadLetterPageType, {
    description: "A page of a sink's dead letters, oldest first (metadata only, no payloads).",
  })
  deadLetters(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<DeadLetterPageType> {
    return this.service.list(tenantId, sinkId, first, after);
  }

  @Authorize('redrive', 'DeadLetter', { tenantArg: 'tenantId' })
  @Mutation(() => Int, {
    description:
      "Queues dead letters (`ids`, or all) on the sink's retry queue with a fresh attempt budget; the workers deliver them. Returns how many were redriven.",
  })
  redriveDeadLetters(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
    @CurrentActor() actor: Actor | null,
    @Args('ids', { type: () => [ID], nullable: true }) ids?: string[] | null,
  ): Promise<number> {
    return this.service.redrive(actor, tenantId, sinkId, ids);
  }

  @Authorize('delete', 'DeadLetter', { tenantArg: 'tenantId' })
  @Mutation(() => Int, {
    description: 'Deletes dead letters (`ids`, or all) of a sink; returns how many were removed.',
  })
  purgeDeadLetters(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
    @CurrentActor() actor: Actor | null,
    @Args('ids', { type: () => [ID], nullable: true }) ids?: string[] | null,
  ): Promise<number> {
    return this.service.purge(actor, tenantId, sinkId, ids);
  }
}
