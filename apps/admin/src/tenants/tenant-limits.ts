/**
 * Per-tenant limit overrides (Tenant.limits) as the admin API accepts them: each key maps to the
 * libs/config setting that holds its platform default, and an override is validated by that
 * setting's own parser, so an override can never hold a value the platform setting would refuse.
 * (The gateway's TenantLimits reads the same keys.)
 */
import { SETTINGS } from '@custodian/config';

export const LIMIT_OVERRIDES = {
  spansPerSecond: 'defaultSpansPerSecond',
  logRecordsPerSecond: 'defaultLogRecordsPerSecond',
  dataPointsPerSecond: 'defaultDataPointsPerSecond',
  burstSeconds: 'defaultBurstSeconds',
  maxAttributes: 'defaultMaxAttributes',
  maxAttributeValueBytes: 'defaultMaxAttributeValueBytes',
  httpMaxBodyBytes: 'httpMaxBodyBytes',
} as const satisfies Record<string, keyof typeof SETTINGS>;

export type LimitKey = keyof typeof LIMIT_OVERRIDES;
export const LIMIT_KEYS = Object.keys(LIMIT_OVERRIDES) as LimitKey[];

export type LimitOverrides = Partial<Record<LimitKey, number>>;

/**
 * Applies a patch (null removes an override) to the current overrides; reports every problem at
 * once, each with its path (`limits.spansPerSecond: expected 1..100000000, got 0`).
 */
export function applyLimitPatch(
  current: Record<string, unknown>,
  patch: Partial<Record<LimitKey, number | null>>,
): { limits: LimitOverrides; problems: string[] } {
  const limits: LimitOverrides = {};
  for (const k of LIMIT_KEYS) {
    const v = current[k];
    if (typeof v === 'number') limits[k] = v;
  }
  const problems: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in LIMIT_OVERRIDES)) {
      problems.push(`limits.${k}: unknown limit; limits are ${LIMIT_KEYS.join(', ')}`);
      continue;
    }
    const key = k as LimitKey;
    if (v === undefined) continue;
    if (v === null) {
      delete limits[key];
      continue;
    }
    const setting = SETTINGS[LIMIT_OVERRIDES[key]];
    try {
      limits[key] = setting.parse(String(v)) as number;
    } catch (err) {
      problems.push(`limits.${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { limits, problems };
}

/** The platform defaults, from the loaded configuration. */
export function defaultLimits(config: Record<string, unknown>): Record<LimitKey, number> {
  return Object.fromEntries(
    LIMIT_KEYS.map((k) => [k, config[LIMIT_OVERRIDES[k]] as number]),
  ) as Record<LimitKey, number>;
}
