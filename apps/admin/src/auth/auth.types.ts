/** GraphQL types of sign-in, the current user and service tokens. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { TENANT_ROLES, type TenantRole } from './abilities';

/** GraphQL enum mirroring TENANT_ROLES (and prisma's TenantRole). */
export const TenantRoleEnum = Object.fromEntries(TENANT_ROLES.map((r) => [r, r])) as {
  [K in TenantRole]: K;
};
registerEnumType(TenantRoleEnum, {
  name: 'TenantRole',
  description:
    'Role within one tenant: owner, admin, security, operator, analyst, viewer (docs/admin-api.md).',
});

@ObjectType({ description: 'A role the user holds in a tenant.' })
export class MyMembership {
  @Field(() => ID)
  tenantId!: string;
  @Field()
  tenantSlug!: string;
  @Field()
  tenantName!: string;
  @Field(() => TenantRoleEnum)
  role!: TenantRole;
}

@ObjectType({ description: 'The signed-in user (or service account).' })
export class Me {
  @Field(() => ID)
  id!: string;
  @Field()
  email!: string;
  @Field(() => String, { nullable: true })
  displayName!: string | null;
  @Field()
  isPlatformAdmin!: boolean;
  @Field()
  isServiceAccount!: boolean;
  @Field(() => [MyMembership])
  memberships!: MyMembership[];
}

@ObjectType({ description: 'Tokens of a session: send accessToken as "Authorization: Bearer".' })
export class AuthSession {
  @Field({ description: `Short-lived HS256 JWT.` })
  accessToken!: string;
  @Field()
  accessTokenExpiresAt!: Date;
  @Field({
    description: 'Single-use: exchange it with `refresh` for a new pair. Keep it secret.',
  })
  refreshToken!: string;
  @Field()
  refreshTokenExpiresAt!: Date;
  @Field(() => Me)
  user!: Me;
}

@ObjectType({ description: 'A service token (never its secret).' })
export class ServiceTokenInfo {
  @Field(() => ID, { description: 'Public id, the part after cust_svc_.' })
  id!: string;
  @Field(() => ID)
  tenantId!: string;
  @Field()
  name!: string;
  @Field(() => TenantRoleEnum, { nullable: true })
  role!: TenantRole | null;
  @Field(() => ID, { description: 'The service account (user) the token belongs to.' })
  userId!: string;
  @Field(() => String, { nullable: true })
  createdBy!: string | null;
  @Field()
  createdAt!: Date;
  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;
  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;
}

@ObjectType()
export class CreatedServiceToken {
  @Field({ description: 'The token: shown once, never again. cust_svc_<id>_<secret>.' })
  token!: string;
  @Field(() => ServiceTokenInfo)
  serviceToken!: ServiceTokenInfo;
}

@InputType()
export class CreateServiceTokenInput {
  @Field(() => ID)
  tenantId!: string;
  @Field({ description: 'What the token is for (1-100 characters).' })
  name!: string;
  @Field(() => TenantRoleEnum, { description: "The service account's role in the tenant." })
  role!: TenantRole;
  @Field(() => Int, { nullable: true, description: 'Days until it expires (1-366); none = never.' })
  expiresInDays?: number | null;
}
