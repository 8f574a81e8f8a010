/** Tenants over GraphQL: thin — validate, authorize (guard), call TenantsService. */
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { accessibleWhere } from '../auth/abilities';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { TenantsService } from './tenants.service';
import { CreateTenantInput, TenantView, UpdateTenantInput } from './tenants.types';

@Resolver()
export class TenantsResolver {
  constructor(private readonly service: TenantsService) {}

  @Authorize('read', 'Tenant')
  @Query(() => [TenantView], { description: 'Tenants the caller may see.' })
  async tenants(@CurrentActor() actor: Actor): Promise<TenantView[]> {
    const rows = await this.service.list(accessibleWhere(actor.ability, 'read', 'Tenant'));
    return rows.map((t) => this.service.view(t));
  }

  @Authorize('read', 'Tenant', { tenantArg: 'id' })
  @Query(() => TenantView)
  async tenant(@Args('id', { type: () => ID }) id: string): Promise<TenantView> {
    return this.service.view(await this.service.get(id));
  }

  @Authorize('create', 'Tenant')
  @Mutation(() => TenantView, { description: 'Create a tenant (platform admins).' })
  async createTenant(
    @CurrentActor() actor: Actor,
    @Args('input') input: CreateTenantInput,
  ): Promise<TenantView> {
    return this.service.view(await this.service.create(actor, input));
  }

  @Authorize('update', 'Tenant', { tenantArg: 'id' })
  @Mutation(() => TenantView, { description: 'Rename a tenant or change its limit overrides.' })
  async updateTenant(
    @CurrentActor() actor: Actor,
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateTenantInput,
  ): Promise<TenantView> {
    return this.service.view(await this.service.update(actor, id, input));
  }

  @Authorize('manage', 'Tenant', { tenantArg: 'id' })
  @Mutation(() => TenantView, {
    description: 'Suspend a tenant: its ingest is refused (platform admins).',
  })
  async suspendTenant(
    @CurrentActor() actor: Actor,
    @Args('id', { type: () => ID }) id: string,
    @Args('reason', { type: () => String, nullable: true }) reason?: string | null,
  ): Promise<TenantView> {
    return this.service.view(await this.service.setStatus(actor, id, 'suspended', reason));
  }

  @Authorize('manage', 'Tenant', { tenantArg: 'id' })
  @Mutation(() => TenantView, { description: 'Resume a suspended tenant (platform admins).' })
  async resumeTenant(
    @CurrentActor() actor: Actor,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<TenantView> {
    return this.service.view(await this.service.setStatus(actor, id, 'active'));
  }
}
