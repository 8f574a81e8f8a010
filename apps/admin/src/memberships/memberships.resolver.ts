/** Memberships over GraphQL (issue #6: memberships and roles). */
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import type { TenantRole } from '../auth/abilities';
import { TenantRoleEnum } from '../auth/auth.types';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { MembershipsService } from './memberships.service';
import { AddMemberInput, MembershipView } from './memberships.types';

@Resolver()
export class MembershipsResolver {
  constructor(private readonly service: MembershipsService) {}

  @Authorize('read', 'Membership', { tenantArg: 'tenantId' })
  @Query(() => [MembershipView], { description: "The tenant's members and their roles." })
  memberships(@Args('tenantId', { type: () => ID }) tenantId: string): Promise<MembershipView[]> {
    return this.service.list(tenantId);
  }

  @Authorize('create', 'Membership', { tenantArg: 'input.tenantId' })
  @Mutation(() => MembershipView, {
    description: 'Give a user (by email) a role in the tenant; only owners may grant owner.',
  })
  addMember(
    @CurrentActor() actor: Actor,
    @Args('input') input: AddMemberInput,
  ): Promise<MembershipView> {
    return this.service.add(actor, input);
  }

  @Authorize('update', 'Membership', { tenantArg: 'tenantId' })
  @Mutation(() => MembershipView, { description: "Change a member's role." })
  updateMemberRole(
    @CurrentActor() actor: Actor,
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('userId', { type: () => ID }) userId: string,
    @Args('role', { type: () => TenantRoleEnum }) role: TenantRole,
  ): Promise<MembershipView> {
    return this.service.updateRole(actor, tenantId, userId, role);
  }

  @Authorize('delete', 'Membership', { tenantArg: 'tenantId' })
  @Mutation(() => MembershipView, { description: 'Remove a member from the tenant.' })
  removeMember(
    @CurrentActor() actor: Actor,
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('userId', { type: () => ID }) userId: string,
  ): Promise<MembershipView> {
    return this.service.remove(actor, tenantId, userId);
  }
}
