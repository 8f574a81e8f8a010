/** GraphQL types of memberships (a user's role in a tenant). */
import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import type { TenantRole } from '../auth/abilities';
import { TenantRoleEnum } from '../auth/auth.types';

@ObjectType()
export class MembershipView {
  @Field(() => ID) id!: string;
  @Field(() => ID) tenantId!: string;
  @Field(() => ID) userId!: string;
  @Field() email!: string;
  @Field(() => String, { nullable: true }) displayName!: string | null;
  @Field() isServiceAccount!: boolean;
  @Field(() => TenantRoleEnum) role!: TenantRole;
  @Field() createdAt!: Date;
}

@InputType()
export class AddMemberInput {
  @Field(() => ID) tenantId!: string;
  @Field() email!: string;
  @Field(() => TenantRoleEnum) role!: TenantRole;
  @Field(() => String, {
    nullable: true,
    description:
      'Creates the user when no user has this email (at least 12 characters); ignored otherwise.',
  })
  initialPassword?: string | null;
  @Field(() => String, { nullable: true }) displayName?: string | null;
}
