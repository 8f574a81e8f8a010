import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BusModule, KafkaAdmin } from '@custodian/bus';
import { DbModule, PrismaService } from '@custodian/db';
import { READINESS, type Readiness } from '@custodian/ops';
import { RedisConnection, RedisModule } from '@custodian/redis';

export const GATEWAY_ROLE = 'gateway';

/**
 * The ingestion gateway role: authenticates tenants (API keys in PostgreSQL, cached), applies
 * per-tenant limits (token buckets in Redis) and produces to Kafka. The OTLP and Zipkin
 * receivers are added by the gateway issue; this module already owns the role's dependencies
 * and its readiness.
 */
@Module({ imports: [BusModule, DbModule, RedisModule] })
export class GatewayModule implements OnModuleInit {
  constructor(
    @Inject(READINESS) private readonly readiness: Readiness,
    private readonly kafka: KafkaAdmin,
    private readonly db: PrismaService,
    private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.require(GATEWAY_ROLE, 'kafka', () => this.kafka.probe());
    this.readiness.require(GATEWAY_ROLE, 'postgres', () => this.db.probe());
    this.readiness.require(GATEWAY_ROLE, 'redis', () => this.redis.probe());
  }
}
