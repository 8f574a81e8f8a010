/**
 * The gateway's share of the usage rollups (issue #6: usage per tenant per minute — received,
 * rejected by reason). The gateway already counts every accepted item and every discarded
 * item with its tenant, signal and reason (custodian_gateway_accepted_items_total,
 * custodian_gateway_discarded_items_total); this provider turns those counters into additive
 * per-minute rows in `usage_rollups` every 10 s and once more at shutdown (libs/store
 * usage-collector.ts), so usage can never disagree with the metrics.
 */
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Pool } from 'pg';
import type { CustodianConfig } from '@custodian/config';
import { CONFIG, LOGGER, METRICS, type Logger, type Registry } from '@custodian/ops';
import {
  CounterUsageCollector,
  RollupRepository,
  createStorePool,
  type CounterUsageSource,
} from '@custodian/store';

export const GATEWAY_USAGE_SOURCES: readonly CounterUsageSource[] = [
  {
    counter: 'custodian_gateway_accepted_items_total',
    map: (l) =>
      typeof l.tenant === 'string' && typeof l.signal === 'string'
        ? { tenantId: l.tenant, signal: l.signal, metric: 'accepted', reason: '' }
        : undefined,
  },
  {
    counter: 'custodian_gateway_discarded_items_total',
    map: (l) =>
      typeof l.tenant === 'string' && typeof l.signal === 'string' && typeof l.reason === 'string'
        ? { tenantId: l.tenant, signal: l.signal, metric: 'rejected', reason: l.reason }
        : undefined,
  },
];

@Injectable()
export class GatewayUsage implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pool: Pool;
  private readonly collector: CounterUsageCollector;

  constructor(
    @Inject(CONFIG) config: CustodianConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    const log = logger.child({ component: 'gateway-usage' });
    this.pool = createStorePool(config.databaseUrl, 2);
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'usage pool error'));
    this.collector = new CounterUsageCollector(
      registry,
      GATEWAY_USAGE_SOURCES,
      new RollupRepository(this.pool),
      {
        onError: (err) =>
          log.warn({ err: (err as Error).message }, 'usage flush failed; retrying next flush'),
      },
    );
  }

  onApplicationBootstrap(): void {
    this.collector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.collector.stop();
    await this.pool.end().catch(() => undefined);
  }
}
