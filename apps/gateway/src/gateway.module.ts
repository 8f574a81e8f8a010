import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { BusModule, KafkaAdmin } from '@custodian/bus';
import { DbModule, PrismaService } from '@custodian/db';
import { READINESS, type Readiness } from '@custodian/ops';
import { RedisConnection, RedisModule } from '@custodian/redis';
import { GatewayServer } from './gateway.server';
import { GatewayUsage } from './usage/gateway-usage';

export const GATEWAY_ROLE = 'gateway';

/**
 * The ingestion gateway role: OTLP/gRPC, OTLP/HTTP and Zipkin receivers; tenants authenticated
 * by API key (PostgreSQL, cached), per-tenant limits (token buckets in Redis), and records
 * produced to Kafka with trace-id affinity.
 */
@Module({ imports: [BusModule, DbModule, RedisModule], providers: [GatewayServer, GatewayUsage] })
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
