/**
 * Ingest API keys through the admin API: the secret is minted here, returned once, and only
 * its keyed hash (CUSTODIAN_API_KEY_PEPPER) is stored. Revocation is a timestamp the gateways
 * see within their key cache TTL (CUSTODIAN_API_KEY_CACHE_TTL_MS).
 */
import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_PREFIX, mintApiKey } from '@custodian/auth';
import type { CustodianConfig } from '@custodian/config';
import { ApiKeyRepository, type ApiKey, type Signal } from '@custodian/db';
import { CONFIG } from '@custodian/ops';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../auth/errors';
import type { ApiKeyView, CreateApiKeyInput, CreatedApiKey, SignalEnum } from './api-keys.types';

export const API_KEY_MAX_DAYS = 3660;

export function apiKeyView(k: ApiKey): ApiKeyView {
  return {
    id: k.id,
    tenantId: k.tenantId,
    name: k.name,
    preview: `${API_KEY_PREFIX}${k.id}_…`,
    signals: k.signals as SignalEnum[],
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    expiresAt: k.expiresAt,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
  };
}

@Injectable()
export class ApiKeysService {
  constructor(
    @Inject(CONFIG) private readonly config: CustodianConfig,
    private readonly keys: ApiKeyRepository,
    private readonly audit: AdminAudit,
  ) {}

  async list(tenantId: string, includeRevoked: boolean): Promise<ApiKeyView[]> {
    const rows = await this.keys.listForTenant(tenantId);
    return rows.filter((k) => includeRevoked || !k.revokedAt).map(apiKeyView);
  }

  async create(actor: Actor, input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const problems: string[] = [];
    const name = input.name.trim();
    if (name === '' || name.length > 100) problems.push('name: 1 to 100 characters');
    const days = input.expiresInDays;
    if (
      days !== undefined &&
      days !== null &&
      (!Number.isInteger(days) || days < 1 || days > API_KEY_MAX_DAYS)
    ) {
      problems.push(`expiresInDays: a whole number of days, 1..${API_KEY_MAX_DAYS}`);
    }
    if (problems.length > 0) throw badInput(`invalid API key: ${problems.join('; ')}`, problems);
    const signals = [...new Set(input.signals ?? [])] as Signal[];
    const minted = mintApiKey(this.config.apiKeyPepper);
    const expiresAt = days ? new Date(Date.now() + days * 86400_000) : null;
    const row = await this.keys.create(input.tenantId, {
      id: minted.id,
      name,
      secretHash: minted.secretHash,
      signals,
      expiresAt,
      createdBy: actor.id,
    });
    await this.audit.record(actor, {
      action: 'api_key.create',
      tenantId: input.tenantId,
      targetType: 'ApiKey',
      targetId: row.id,
      details: { name, signals, expiresAt: expiresAt?.toISOString() ?? null },
    });
    return { key: minted.key, apiKey: apiKeyView(row) };
  }

  async revoke(actor: Actor, tenantId: string, id: string): Promise<ApiKeyView> {
    const existing = await this.keys.findInTenant(tenantId, id);
    if (!existing) throw notFound(`API key ${id} not found in tenant ${tenantId}`);
    const changed = await this.keys.revoke(tenantId, id);
    await this.audit.record(actor, {
      action: 'api_key.revoke',
      tenantId,
      targetType: 'ApiKey',
      targetId: id,
      details: { alreadyRevoked: !changed },
    });
    return apiKeyView((await this.keys.findInTenant(tenantId, id))!);
  }
}
