/**
 * Per-tenant limits, in one place, with one lookup order: the tenant's own override
 * (Tenant.limits in the database, e.g. {"spansPerSecond": 100000}), then the platform default
 * (CUSTODIAN_LIMIT_* settings). Consumers read them through these accessors only.
 */
import type { CustodianConfig } from '@custodian/config';
import type { Signal } from '@custodian/bus';

export interface LimitValues {
  spansPerSecond: number;
  logRecordsPerSecond: number;
  dataPointsPerSecond: number;
  burstSeconds: number;
  maxAttributes: number;
  maxAttributeValueBytes: number;
  httpMaxBodyBytes: number;
}

const RATE_KEY: Record<Signal, keyof LimitValues> = {
  traces: 'spansPerSecond',
  logs: 'logRecordsPerSecond',
  metrics: 'dataPointsPerSecond',
};

export class TenantLimits {
  private readonly defaults: LimitValues;

  constructor(config: CustodianConfig) {
    this.defaults = {
      spansPerSecond: config.defaultSpansPerSecond,
      logRecordsPerSecond: config.defaultLogRecordsPerSecond,
      dataPointsPerSecond: config.defaultDataPointsPerSecond,
      burstSeconds: config.defaultBurstSeconds,
      maxAttributes: config.defaultMaxAttributes,
      maxAttributeValueBytes: config.defaultMaxAttributeValueBytes,
      httpMaxBodyBytes: config.httpMaxBodyBytes,
    };
  }

  private value(overrides: Record<string, unknown>, key: keyof LimitValues): number {
    const v = overrides[key];
    // A malformed override never loosens anything: it is ignored and the default applies.
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : this.defaults[key];
  }

  /** Items per second and bucket capacity for one signal. */
  ingestRate(overrides: Record<string, unknown>, signal: Signal): { rate: number; burst: number } {
    const rate = this.value(overrides, RATE_KEY[signal]);
    return { rate, burst: Math.max(1, Math.ceil(rate * this.value(overrides, 'burstSeconds'))) };
  }

  maxAttributes(overrides: Record<string, unknown>): number {
    return this.value(overrides, 'maxAttributes');
  }

  maxAttributeValueBytes(overrides: Record<string, unknown>): number {
    return this.value(overrides, 'maxAttributeValueBytes');
  }

  httpMaxBodyBytes(overrides: Record<string, unknown>): number {
    return this.value(overrides, 'httpMaxBodyBytes');
  }

  /** The largest body any tenant may send, for checks made before the tenant is known. */
  get defaultHttpMaxBodyBytes(): number {
    return this.defaults.httpMaxBodyBytes;
  }
}
