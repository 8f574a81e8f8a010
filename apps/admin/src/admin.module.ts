import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { CustodianConfig } from '@custodian/config';
import { DbModule, PrismaService } from '@custodian/db';
import { CONFIG, READINESS, type Readiness } from '@custodian/ops';
import { RedisConnection, RedisModule } from '@custodian/redis';
import { PlatformResolver } from './platform/platform.resolver';

export const ADMIN_ROLE = 'admin';

/**
 * The admin role: the GraphQL API (code-first) at /graphql on CUSTODIAN_ADMIN_PORT, over
 * PostgreSQL, with Redis for jobs. Tenants, keys, policies, sinks and the audit log are added
 * by the admin issue.
 */
@Module({
  imports: [
    DbModule,
    RedisModule,
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [CONFIG],
      useFactory: (config: CustodianConfig) => ({
        path: '/graphql',
        autoSchemaFile: true,
        sortSchema: true,
        introspection: config.env !== 'production',
        playground: false,
        includeStacktraceInErrorResponses: config.env !== 'production',
      }),
    }),
  ],
  providers: [PlatformResolver],
})
export class AdminModule implements OnModuleInit {
  constructor(
    @Inject(READINESS) private readonly readiness: Readiness,
    private readonly db: PrismaService,
    private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.require(ADMIN_ROLE, 'postgres', () => this.db.probe());
    this.readiness.require(ADMIN_ROLE, 'redis', () => this.redis.probe());
  }
}
