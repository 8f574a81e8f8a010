/** Sign-in, sessions, the current user and service tokens (issue #6 item 1). */
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { PrismaService } from '@custodian/db';
import type { Actor, RequestMeta } from './actor';
import { AuthService, type IssuedSession } from './auth.service';
import {
  AuthSession,
  CreateServiceTokenInput,
  CreatedServiceToken,
  Me,
  ServiceTokenInfo,
} from './auth.types';
import { Authorize, Public } from './authorize.decorator';
import { CurrentActor, CurrentRequestMeta } from './current-actor.decorator';
import { unauthenticated } from './errors';
import { requestMetaOf } from './authorization.guard';

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly prisma: PrismaService,
  ) {}

  private async me(userId: string): Promise<Me> {
    const user = await this.prisma.client.user.findUnique({
      where: { id: userId },
      include: { memberships: { include: { tenant: true }, orderBy: { createdAt: 'asc' } } },
    });
    if (!user) throw unauthenticated('unknown user');
    return {
      id: user.id,
      email: user.email,
      displayName: user.displayName,
      isPlatformAdmin: user.isPlatformAdmin,
      isServiceAccount: user.isServiceAccount,
      memberships: user.memberships.map((m) => ({
        tenantId: m.tenantId,
        tenantSlug: m.tenant.slug,
        tenantName: m.tenant.name,
        role: m.role,
      })),
    };
  }

  private async session(s: IssuedSession): Promise<AuthSession> {
    return { ...s, user: await this.me(s.userId) };
  }

  @Public()
  @Mutation(() => AuthSession, {
    description:
      'Sign in with email and password. The same error answers an unknown email, a wrong password and a locked account.',
  })
  async login(
    @Args('email') email: string,
    @Args('password') password: string,
    @CurrentRequestMeta() meta: RequestMeta | undefined,
  ): Promise<AuthSession> {
    return this.session(await this.auth.login(email, password, meta ?? requestMetaOf(undefined)));
  }

  @Public()
  @Mutation(() => AuthSession, {
    description:
      'Exchange a refresh token for a new access token and refresh token (the old one is spent; presenting it again revokes the session).',
  })
  async refresh(
    @Args('refreshToken') refreshToken: string,
    @CurrentRequestMeta() meta: RequestMeta | undefined,
  ): Promise<AuthSession> {
    return this.session(await this.auth.refresh(refreshToken, meta ?? requestMetaOf(undefined)));
  }

  @Public()
  @Mutation(() => Boolean, {
    description:
      'End the session the refresh token belongs to. Its access tokens stay valid until they expire (15 minutes).',
  })
  logout(
    @Args('refreshToken') refreshToken: string,
    @CurrentRequestMeta() meta: RequestMeta | undefined,
  ): Promise<boolean> {
    return this.auth.logout(refreshToken, meta ?? requestMetaOf(undefined));
  }

  @Authorize('read', 'User')
  @Query(() => Me, { name: 'me', description: 'The signed-in user and their roles.' })
  currentUser(@CurrentActor() actor: Actor): Promise<Me> {
    return this.me(actor.id);
  }

  @Authorize('update', 'User')
  @Mutation(() => Boolean, {
    description:
      'Change your own password (at least 12 characters); every other session is signed out.',
  })
  async changePassword(
    @CurrentActor() actor: Actor,
    @Args('currentPassword') currentPassword: string,
    @Args('newPassword') newPassword: string,
  ): Promise<boolean> {
    await this.auth.changePassword(actor, currentPassword, newPassword);
    return true;
  }

  @Authorize('create', 'ServiceToken', { tenantArg: 'input.tenantId' })
  @Mutation(() => CreatedServiceToken, {
    description:
      'Create a service account with a role in the tenant and a token for it (shown once).',
  })
  async createServiceToken(
    @Args('input') input: CreateServiceTokenInput,
    @CurrentActor() actor: Actor,
  ): Promise<CreatedServiceToken> {
    const issued = await this.auth.createServiceToken(actor, input);
    return {
      token: issued.token,
      serviceToken: {
        id: issued.id,
        tenantId: issued.tenantId,
        name: issued.name,
        role: issued.role,
        userId: issued.userId,
        createdBy: actor.id,
        createdAt: new Date(),
        expiresAt: issued.expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      },
    };
  }

  @Authorize('delete', 'ServiceToken', { tenantArg: 'tenantId' })
  @Mutation(() => ServiceTokenInfo, { description: 'Revoke a service token (at once).' })
  async revokeServiceToken(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('id', { type: () => ID }) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<ServiceTokenInfo> {
    await this.auth.revokeServiceToken(actor, tenantId, id);
    const [row] = (await this.serviceTokens(tenantId)).filter((t) => t.id === id);
    return row;
  }

  @Authorize('read', 'ServiceToken', { tenantArg: 'tenantId' })
  @Query(() => [ServiceTokenInfo], { description: "The tenant's service tokens (no secrets)." })
  async serviceTokens(
    @Args('tenantId', { type: () => ID }) tenantId: string,
  ): Promise<ServiceTokenInfo[]> {
    const rows = await this.auth.listServiceTokens(tenantId);
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      name: r.name,
      role: r.user.memberships[0]?.role ?? null,
      userId: r.userId,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      revokedAt: r.revokedAt,
      lastUsedAt: r.lastUsedAt,
    }));
  }
}
