/** GraphQL types of tenants. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum TenantStatusEnum {
  active = 'active',
  suspended = 'suspended',
}
registerEnumType(TenantStatusEnum, {
  name: 'TenantStatus',
  description: 'A suspended tenant’s ingest is refused by the gateway.',
});

@ObjectType({ description: 'Per-tenant limits (each key: an override or the platform default).' })
export class TenantLimitsView {
  @Field(() => Int, { nullable: true }) spansPerSecond!: number | null;
  @Field(() => Int, { nullable: true }) logRecordsPerSecond!: number | null;
  @Field(() => Int, { nullable: true }) dataPointsPerSecond!: number | null;
  @Field(() => Int, { nullable: true }) burstSeconds!: number | null;
  @Field(() => Int, { nullable: true }) maxAttributes!: number | null;
  @Field(() => Int, { nullable: true }) maxAttributeValueBytes!: number | null;
  @Field(() => Int, { nullable: true }) httpMaxBodyBytes!: number | null;
}

@InputType({
  description:
    'Limit overrides to set; null removes an override (the platform default applies again). Values are validated like the CUSTODIAN_LIMIT_* settings.',
})
export class TenantLimitsInput {
  @Field(() => Int, { nullable: true }) spansPerSecond?: number | null;
  @Field(() => Int, { nullable: true }) logRecordsPerSecond?: number | null;
  @Field(() => Int, { nullable: true }) dataPointsPerSecond?: number | null;
  @Field(() => Int, { nullable: true }) burstSeconds?: number | null;
  @Field(() => Int, { nullable: true }) maxAttributes?: number | null;
  @Field(() => Int, { nullable: true }) maxAttributeValueBytes?: number | null;
  @Field(() => Int, { nullable: true }) httpMaxBodyBytes?: number | null;
}

@ObjectType()
export class TenantView {
  @Field(() => ID) id!: string;
  @Field() slug!: string;
  @Field() name!: string;
  @Field(() => TenantStatusEnum) status!: TenantStatusEnum;
  @Field(() => Date, { nullable: true }) suspendedAt!: Date | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  @Field(() => TenantLimitsView, { description: 'Overrides only (null = platform default).' })
  limitOverrides!: TenantLimitsView;
  @Field(() => TenantLimitsView, { description: 'What applies: override, else default.' })
  effectiveLimits!: TenantLimitsView;
}

@InputType()
export class CreateTenantInput {
  @Field({ description: '1-40 lowercase letters, digits or dashes; unique.' }) slug!: string;
  @Field() name!: string;
  @Field(() => TenantLimitsInput, { nullable: true }) limits?: TenantLimitsInput | null;
}

@InputType()
export class UpdateTenantInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => TenantLimitsInput, { nullable: true }) limits?: TenantLimitsInput | null;
}
