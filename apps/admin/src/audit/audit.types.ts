/** GraphQL types of the audit log. */
import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { MaskedFields } from '../auth/sanitize';

@ObjectType({ description: 'One audit event (append-only, hash-chained per tenant).' })
export class AuditEventView extends MaskedFields {
  @Field({ description: 'Sequence number (increasing; gaps are normal).' })
  seq!: string;
  @Field(() => ID, { nullable: true, description: 'Null for platform-level events.' })
  tenantId!: string | null;
  @Field({ description: 'user | service | anonymous | system' })
  actorType!: string;
  @Field(() => String, { nullable: true })
  actorId!: string | null;
  @Field()
  action!: string;
  @Field(() => String, { nullable: true })
  targetType!: string | null;
  @Field(() => String, { nullable: true })
  targetId!: string | null;
  @Field(() => [String])
  fields!: string[];
  @Field(() => String, { nullable: true })
  reason!: string | null;
  @Field(() => String, { nullable: true, description: 'Client address (restricted field).' })
  ip!: string | null;
  @Field(() => String, { nullable: true, description: 'Client user agent (restricted field).' })
  userAgent!: string | null;
  @Field(() => String, { nullable: true })
  requestId!: string | null;
  @Field({ description: 'success | denied | failure' })
  outcome!: string;
  @Field({ description: 'Further details as a JSON object.' })
  details!: string;
  @Field()
  occurredAt!: Date;
  @Field({ description: 'SHA-256 of the previous event of the chain, hex.' })
  prevHash!: string;
  @Field({ description: "SHA-256 of this event's content and prevHash, hex." })
  hash!: string;
}

@ObjectType()
export class AuditEventPage {
  @Field(() => [AuditEventView], { description: 'Newest first.' })
  items!: AuditEventView[];
  @Field(() => String, {
    nullable: true,
    description: 'Pass as `after` for the next (older) page; null on the last page.',
  })
  nextCursor!: string | null;
}

@InputType()
export class AuditEventFilter {
  @Field(() => ID, {
    nullable: true,
    description: "The tenant whose log to read; omit for every tenant's (platform admins only).",
  })
  tenantId?: string | null;
  @Field(() => String, { nullable: true })
  actorId?: string | null;
  @Field(() => String, { nullable: true, description: 'Exact action, or a prefix ending in "."' })
  action?: string | null;
  @Field(() => String, { nullable: true, description: 'success | denied | failure' })
  outcome?: string | null;
  @Field(() => Date, { nullable: true, description: 'Inclusive lower bound of occurredAt.' })
  from?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Exclusive upper bound of occurredAt.' })
  to?: Date | null;
}

@ObjectType()
export class AuditChainVerification {
  @Field()
  ok!: boolean;
  @Field(() => Int, { description: 'Events examined.' })
  checked!: number;
  @Field(() => String, {
    nullable: true,
    description: 'Seq of the first event that does not verify.',
  })
  firstBrokenSeq!: string | null;
  @Field(() => String, { nullable: true })
  reason!: string | null;
}
