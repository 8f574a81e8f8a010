import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CONFIG, LOGGER, type Logger } from '@custodian/ops';
import type { CustodianConfig } from '@custodian/config';

/**
 * The process's Redis command connection (rate-limit buckets, key-revocation notices, queue
 * bookkeeping). Commands fail fast while Redis is unreachable instead of queueing in memory;
 * the connection keeps retrying in the background and readiness reports the outage.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(@Inject(CONFIG) config: CustodianConfig, @Inject(LOGGER) logger: Logger) {
    const log = logger.child({ component: 'redis' });
    let lastError = '';
    this.client = new Redis(config.redisUrl, {
      lazyConnect: false,
      // Commands issued in the same tick share one socket write: the gateway's per-request
      // rate-limit scripts were 6–9% of its CPU as separate writes (profiled under load).
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 3000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.client.on('error', (err: Error) => {
      // One line per distinct failure, not one per retry.
      if (err.message !== lastError) log.warn({ err: err.message }, 'redis connection error');
      lastError = err.message;
    });
    this.client.on('ready', () => {
      if (lastError) log.info('redis connection restored');
      lastError = '';
    });
  }

  async probe(): Promise<void> {
    const pong = await this.client.ping();
    if (pong !== 'PONG') throw new Error(`unexpected PING answer: ${pong}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
