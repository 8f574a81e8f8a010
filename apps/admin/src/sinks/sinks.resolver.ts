/**
 * The sinks API (issue #6 item 3): thin resolvers over SinksService, each with @Authorize.
 *
 * `clearedForRestricted` decides whether values redaction marked restricted leave the
 * platform, so changing it is a redaction decision: it needs `update` on the Sink's
 * `clearedForRestricted` field AND the PolicyVersion `redaction` field (operators manage sinks
 * but not redaction, so they are refused; owners and admins may). Refusals are audited.
 */
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Actor } from '../auth/actor';
import { subjectFor } from '../auth/abilities';
import { AdminAudit } from '../audit/admin-audit.service';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { adminError } from '../auth/errors';
import type { SinkKindName } from './sink-config';
import { SinksService, type SinkView } from './sinks.service';
import {
  CreateSinkInput,
  SinkConnectivityResult,
  SinkKindType,
  SinkType,
  UpdateSinkInput,
} from './sinks.types';

function toType(v: SinkView): SinkType {
  const { config, kind, ...rest } = v;
  return { ...rest, kind: kind as SinkKindType, configJson: JSON.stringify(config) };
}

function jsonObject(text: string | null | undefined, path: string): Record<string, unknown> | null {
  if (text === undefined || text === null || text.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw adminError('BAD_USER_INPUT', `${path} is not valid JSON`, {
      errors: [{ path, message: (err as Error).message }],
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw adminError('BAD_USER_INPUT', `${path} must be a JSON object`, {
      errors: [{ path, message: 'expected a JSON object' }],
    });
  }
  return v as Record<string, unknown>;
}

@Resolver()
export class SinksResolver {
  constructor(
    private readonly service: SinksService,
    private readonly audit: AdminAudit,
  ) {}

  private async requireRestrictedPermission(
    actor: Actor | null,
    tenantId: string,
    sinkId?: string,
  ) {
    const ok =
      actor !== null &&
      actor.ability.can('update', subjectFor('Sink', tenantId), 'clearedForRestricted') &&
      actor.ability.can('activate', subjectFor('PolicyVersion', tenantId), 'redaction');
    if (ok) return;
    await this.audit.record(actor, {
      action: 'sink.update',
      tenantId,
      targetType: 'Sink',
      ...(sinkId ? { targetId: sinkId } : {}),
      fields: ['clearedForRestricted'],
      outcome: 'denied',
      reason: 'clearing a sink for restricted values needs the permission to manage redaction',
    });
    throw adminError(
      'FORBIDDEN',
      'clearing a sink for restricted values is a redaction decision your role may not make (owner or admin may)',
    );
  }

  @Authorize('read', 'Sink', { tenantArg: 'tenantId' })
  @Query(() => [SinkType], { description: "A tenant's sinks (secret values never included)." })
  async sinks(@Args('tenantId', { type: () => ID }) tenantId: string): Promise<SinkType[]> {
    return (await this.service.list(tenantId)).map(toType);
  }

  @Authorize('read', 'Sink', { tenantArg: 'tenantId' })
  @Query(() => SinkType)
  async sink(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
  ): Promise<SinkType> {
    return toType(await this.service.get(tenantId, sinkId));
  }

  @Authorize('create', 'Sink', { tenantArg: 'input.tenantId' })
  @Mutation(() => SinkType, { description: 'Creates a sink; settings validated per kind.' })
  async createSink(
    @Args('input') input: CreateSinkInput,
    @CurrentActor() actor: Actor | null,
  ): Promise<SinkType> {
    if (input.clearedForRestricted) await this.requireRestrictedPermission(actor, input.tenantId);
    const view = await this.service.create(actor, input.tenantId, {
      name: input.name,
      kind: input.kind as SinkKindName,
      config: jsonObject(input.configJson, 'configJson'),
      secret: jsonObject(input.secretJson, 'secretJson'),
      enabled: input.enabled,
      clearedForRestricted: input.clearedForRestricted,
    });
    return toType(view);
  }

  @Authorize('update', 'Sink', { tenantArg: 'input.tenantId' })
  @Mutation(() => SinkType, {
    description: 'Updates a sink (also enable/disable); the secret is patched, never read back.',
  })
  async updateSink(
    @Args('input') input: UpdateSinkInput,
    @CurrentActor() actor: Actor | null,
  ): Promise<SinkType> {
    if (input.clearedForRestricted !== undefined && input.clearedForRestricted !== null) {
      const current = await this.service.get(input.tenantId, input.sinkId);
      if (current.clearedForRestricted !== input.clearedForRestricted)
        await this.requireRestrictedPermission(actor, input.tenantId, input.sinkId);
    }
    const view = await this.service.update(actor, input.tenantId, input.sinkId, {
      name: input.name,
      config: jsonObject(input.configJson, 'configJson'),
      secret: jsonObject(input.secretJson, 'secretJson'),
      clearSecret: input.clearSecret,
      enabled: input.enabled,
      clearedForRestricted: input.clearedForRestricted,
    });
    return toType(view);
  }

  @Authorize('delete', 'Sink', { tenantArg: 'tenantId' })
  @Mutation(() => Boolean)
  deleteSink(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
    @CurrentActor() actor: Actor | null,
  ): Promise<boolean> {
    return this.service.delete(actor, tenantId, sinkId);
  }

  @Authorize('update', 'Sink', { tenantArg: 'tenantId' })
  @Mutation(() => SinkConnectivityResult, {
    description:
      'Exports one test span (resource custodian.connectivity_test=true) to the sink the way the worker would, with a 5 s timeout.',
  })
  testSinkConnectivity(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('sinkId', { type: () => ID }) sinkId: string,
    @CurrentActor() actor: Actor | null,
  ): Promise<SinkConnectivityResult> {
    return this.service.testConnectivity(actor, tenantId, sinkId);
  }
}
