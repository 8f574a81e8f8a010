/**
 * The policies API (issue #6 item 3): thin resolvers — each declares its permission with
 * @Authorize (checked by the global guard against the tenant named in its arguments), then
 * calls PoliciesService, which validates, writes and audits. The one permission the guard
 * cannot see from the arguments — changing the `redaction` section, which operators may not —
 * is asked of the ability here and enforced by the service against the document's content.
 *
 * Dry-run needs `create` on PolicyVersion, not `read`: its output is computed with the
 * tenant's HMAC key, so letting every reader run it would make it a hashing oracle for the
 * keyed hashes that protect low-entropy values (emails, user ids).
 */
import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { PolicyVersion } from '@custodian/db';
import type { Actor } from '../auth/actor';
import { subjectFor } from '../auth/abilities';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentActor } from '../auth/current-actor.decorator';
import { PoliciesService, type PolicySubmitFormat } from './policies.service';
import {
  PolicyActivationType,
  PolicyDiffType,
  PolicyDryRunInput,
  PolicyDryRunResult,
  PolicyVersionPageType,
  PolicyVersionType,
  SubmitPolicyInput,
  SubmitPolicyResult,
} from './policies.types';

function toType(row: PolicyVersion, activeId: string | null): PolicyVersionType {
  return {
    id: row.id,
    tenantId: row.tenantId,
    version: row.version,
    checksum: row.checksum,
    format: row.format,
    comment: row.comment,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    active: row.id === activeId,
    source: row.source,
    documentJson: JSON.stringify(row.document),
  };
}

@Resolver()
export class PoliciesResolver {
  constructor(private readonly policies: PoliciesService) {}

  private mayChangeRedaction(actor: Actor | null, tenantId: string, action: 'create' | 'activate') {
    return actor
      ? actor.ability.can(action, subjectFor('PolicyVersion', tenantId), 'redaction')
      : false;
  }

  @Authorize('read', 'PolicyVersion', { tenantArg: 'tenantId' })
  @Query(() => PolicyVersionPageType, { description: "A tenant's policy versions, newest first." })
  async policyVersions(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('limit', { type: () => Int, nullable: true }) limit?: number,
    @Args('beforeVersion', { type: () => Int, nullable: true }) beforeVersion?: number,
  ): Promise<PolicyVersionPageType> {
    const page = await this.policies.list(tenantId, { limit, beforeVersion });
    const activeId = await this.policies.activeId(tenantId);
    return { ...page, items: page.items.map((r) => toType(r, activeId)) };
  }

  @Authorize('read', 'PolicyVersion', { tenantArg: 'tenantId' })
  @Query(() => PolicyVersionType, {
    description:
      'One version (by number or id; neither: the active one) with its source and normalized document.',
  })
  async policyVersion(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('version', { type: () => Int, nullable: true }) version?: number,
    @Args('id', { type: () => ID, nullable: true }) id?: string,
  ): Promise<PolicyVersionType> {
    const row = await this.policies.get(tenantId, { version, id });
    return toType(row, await this.policies.activeId(tenantId));
  }

  @Authorize('read', 'PolicyVersion', { tenantArg: 'tenantId' })
  @Query(() => PolicyDiffType, {
    description: 'Diff of two versions (toVersion: default the active one).',
  })
  policyDiff(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('fromVersion', { type: () => Int }) fromVersion: number,
    @Args('toVersion', { type: () => Int, nullable: true }) toVersion?: number,
  ): Promise<PolicyDiffType> {
    return this.policies.diff(tenantId, fromVersion, toVersion);
  }

  @Authorize('create', 'PolicyVersion', { tenantArg: 'input.tenantId' })
  @Query(() => PolicyDryRunResult, {
    description:
      'Applies a policy (a version, an unsaved source, the active one or the platform default) to a sample OTLP JSON payload exactly as the worker would: the output per sink, what was sampled out and why, which rules fired.',
  })
  policyDryRun(@Args('input') input: PolicyDryRunInput): Promise<PolicyDryRunResult> {
    return this.policies.dryRun(input.tenantId, {
      ...input,
      format: (input.format ?? null) as PolicySubmitFormat | null,
    });
  }

  @Authorize('create', 'PolicyVersion', { tenantArg: 'input.tenantId' })
  @Mutation(() => SubmitPolicyResult, {
    description:
      'Stores a new version (validated; every problem reported with its path in extensions.errors). Not active until activated.',
  })
  async submitPolicy(
    @Args('input') input: SubmitPolicyInput,
    @CurrentActor() actor: Actor | null,
  ): Promise<SubmitPolicyResult> {
    const out = await this.policies.submit(
      actor,
      input.tenantId,
      { source: input.source, format: input.format as PolicySubmitFormat, comment: input.comment },
      { mayChangeRedaction: this.mayChangeRedaction(actor, input.tenantId, 'create') },
    );
    return { ...out, version: toType(out.version, await this.policies.activeId(input.tenantId)) };
  }

  @Authorize('activate', 'PolicyVersion', { tenantArg: 'tenantId' })
  @Mutation(() => PolicyActivationType, { description: 'Makes a stored version the active one.' })
  async activatePolicy(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('version', { type: () => Int }) version: number,
    @CurrentActor() actor: Actor | null,
  ): Promise<PolicyActivationType> {
    const out = await this.policies.activate(actor, tenantId, version, {
      mayChangeRedaction: this.mayChangeRedaction(actor, tenantId, 'activate'),
    });
    return { ...out, version: out.version ? toType(out.version, out.version.id) : null };
  }

  @Authorize('activate', 'PolicyVersion', { tenantArg: 'tenantId' })
  @Mutation(() => PolicyActivationType, {
    description:
      'Activates the version that was active before the current one (or toVersion). Rolling back past the first activation returns to the platform default.',
  })
  async rollbackPolicy(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('toVersion', { type: () => Int, nullable: true }) toVersion: number | undefined,
    @CurrentActor() actor: Actor | null,
  ): Promise<PolicyActivationType> {
    const out = await this.policies.rollback(actor, tenantId, toVersion, {
      mayChangeRedaction: this.mayChangeRedaction(actor, tenantId, 'activate'),
    });
    return { ...out, version: out.version ? toType(out.version, out.version.id) : null };
  }
}
