import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BusModule, KafkaAdmin } from '@custodian/bus';
import { DbModule, PrismaService } from '@custodian/db';
import { READINESS, type Readiness } from '@custodian/ops';
import { RedisConnection, RedisModule } from '@custodian/redis';
import { WorkerRuntime } from './worker.runtime';

export const WORKER_ROLE = 'worker';

/**
 * The worker role: consumes otlp.* in one consumer group, runs each tenant's compiled policy
 * (from PostgreSQL) and delivers to its sinks through Redis-backed retry queues.
 */
@Module({ imports: [BusModule, DbModule, RedisModule], providers: [WorkerRuntime] })
export class WorkerModule implements OnModuleInit {
  constructor(
    @Inject(READINESS) private readonly readiness: Readiness,
    private readonly kafka: KafkaAdmin,
    private readonly db: PrismaService,
    private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.require(WORKER_ROLE, 'kafka', () => this.kafka.probe());
    this.readiness.require(WORKER_ROLE, 'postgres', () => this.db.probe());
    this.readiness.require(WORKER_ROLE, 'redis', () => this.redis.probe());
  }
}
