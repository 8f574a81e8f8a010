/** Ingest API keys over GraphQL: create (secret once), list (never secrets), revoke. */
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyView, CreateApiKeyInput, CreatedApiKey } from './api-keys.types';

@Resolver()
export class ApiKeysResolver {
  constructor(private readonly keys: ApiKeysService) {}

  @Authorize('read', 'ApiKey', { tenantArg: 'tenantId' })
  @Query(() => [ApiKeyView], { description: "The tenant's ingest keys (never their secrets)." })
  apiKeys(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('includeRevoked', { defaultValue: false }) includeRevoked: boolean,
  ): Promise<ApiKeyView[]> {
    return this.keys.list(tenantId, includeRevoked);
  }

  @Authorize('create', 'ApiKey', { tenantArg: 'input.tenantId' })
  @Mutation(() => CreatedApiKey, { description: 'Create an ingest key; its secret is shown once.' })
  createApiKey(
    @CurrentActor() actor: Actor,
    @Args('input') input: CreateApiKeyInput,
  ): Promise<CreatedApiKey> {
    return this.keys.create(actor, input);
  }

  @Authorize('delete', 'ApiKey', { tenantArg: 'tenantId' })
  @Mutation(() => ApiKeyView, {
    description: 'Revoke an ingest key; gateways refuse it within their key cache TTL.',
  })
  revokeApiKey(
    @CurrentActor() actor: Actor,
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<ApiKeyView> {
    return this.keys.revoke(actor, tenantId, id);
  }
}
