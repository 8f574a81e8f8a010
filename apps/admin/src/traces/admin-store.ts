/**
 * The admin role's read access to Custodian's trace store and rollups (libs/store): its own
 * small `pg` pool, kept apart from Prisma's so a slow trace search cannot starve sign-ins and
 * audit writes of connections (libs/store pool.ts explains the split). The keyring opens
 * restricted values with CUSTODIAN_ENCRYPTION_KEY, the key the worker's store sink wrote
 * them under.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import type { CustodianConfig } from '@custodian/config';
import { CONFIG, LOGGER, type Logger } from '@custodian/ops';
import { RollupRepository, StoreKeyring, TraceStore, createStorePool } from '@custodian/store';

@Injectable()
export class AdminStore implements OnApplicationShutdown {
  readonly traces: TraceStore;
  readonly rollups: RollupRepository;
  private readonly pool: Pool;

  constructor(@Inject(CONFIG) config: CustodianConfig, @Inject(LOGGER) logger: Logger) {
    const log = logger.child({ component: 'admin-store' });
    this.pool = createStorePool(config.databaseUrl, 3);
    this.pool.on('error', (err) => log.warn({ err: err.message }, 'store pool error'));
    this.traces = new TraceStore(this.pool, new StoreKeyring(this.pool, config.encryptionKey));
    this.rollups = new RollupRepository(this.pool);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
