/**
 * A tenant's audit stream over GraphQL: where its audit events go as OTLP logs, and how far the
 * sink has got. Configuring it changes what leaves the platform, so it takes `update` on the
 * tenant (owners and admins); reading its status is reading about the audit log.
 */
import { Args, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { AuditStreamService } from './audit-stream.service';

@ObjectType({ description: "A tenant's audit events streamed to one of its sinks as OTLP logs." })
export class AuditStreamView {
  @Field(() => ID)
  tenantId!: string;
  @Field(() => ID)
  sinkId!: string;
  @Field()
  sinkName!: string;
  @Field()
  enabled!: boolean;
  @Field({ description: 'The last audit event seq the sink accepted.' })
  lastSeq!: string;
  @Field(() => Int, { description: 'Events of the tenant the sink has not accepted yet.' })
  pending!: number;
  @Field(() => Date, { nullable: true })
  lastDeliveredAt!: Date | null;
  @Field(() => String, {
    nullable: true,
    description: 'The last delivery failure (never event content); null after a success.',
  })
  lastError!: string | null;
}

@Resolver()
export class AuditStreamResolver {
  constructor(private readonly streams: AuditStreamService) {}

  @Authorize('read', 'AuditEvent', { tenantArg: 'tenantId' })
  @Query(() => AuditStreamView, {
    nullable: true,
    description: "The tenant's audit stream, or null when its audit events are not streamed.",
  })
  auditStream(
    @Args('tenantId', { type: () => ID }) tenantId: string,
  ): Promise<AuditStreamView | null> {
    return this.streams.status(tenantId);
  }

  @Authorize('update', 'Tenant', { tenantArg: 'tenantId' })
  @Mutation(() => AuditStreamView, {
    nullable: true,
    description:
      "Streams the tenant's audit events to one of its sinks (otlphttp or otlpgrpc) as OTLP logs, from now on (or from the first event with fromBeginning); sinkId null stops the stream. Audited.",
  })
  configureAuditStream(
    @CurrentActor() actor: Actor,
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID, nullable: true }) sinkId: string | null,
    @Args('fromBeginning', { type: () => Boolean, defaultValue: false }) fromBeginning: boolean,
  ): Promise<AuditStreamView | null> {
    return this.streams.configure(actor, tenantId, sinkId ?? null, fromBeginning);
  }
}
