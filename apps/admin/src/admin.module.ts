import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { CustodianConfig } from '@custodian/config';
import { DbModule, PrismaService } from '@custodian/db';
import { CONFIG, READINESS, type Readiness } from '@custodian/ops';
import { RedisConnection, RedisModule } from '@custodian/redis';
import { AdminCoreModule } from './admin-core.module';
import { ApiKeysResolver } from './api-keys/api-keys.resolver';
import { ApiKeysService } from './api-keys/api-keys.service';
import { AuditLogService } from './audit/audit-log.service';
import { AuditResolver } from './audit/audit.resolver';
import { AuditStreamModule } from './audit/audit-stream.module';
import { AuthResolver } from './auth/auth.resolver';
import { DeadLettersModule } from './dead-letters/dead-letters.module';
import { costLimitPlugin, depthLimitRule, formatAdminError } from './graphql/hardening';
import { MembershipsResolver } from './memberships/memberships.resolver';
import { MembershipsService } from './memberships/memberships.service';
import { PlatformResolver } from './platform/platform.resolver';
import { PoliciesModule } from './policies/policies.module';
import { SinksModule } from './sinks/sinks.module';
import { TracesModule } from './traces/traces.module';
import { UsageModule } from './usage/usage.module';
import { TenantsResolver } from './tenants/tenants.resolver';
import { TenantsService } from './tenants/tenants.service';

export const ADMIN_ROLE = 'admin';

/**
 * The admin role: the GraphQL API (code-first) at /graphql on CUSTODIAN_ADMIN_PORT, over
 * PostgreSQL, with Redis for login rate limits and jobs. Every query and mutation passes the
 * global guard of AdminCoreModule (docs/admin-api.md); feature modules (policies, sinks…) are
 * added to `imports` and use @Authorize, @CurrentActor and AdminAudit from the core.
 */
@Module({
  imports: [
    DbModule,
    RedisModule,
    AdminCoreModule,
    PoliciesModule,
    SinksModule,
    TracesModule,
    UsageModule,
    DeadLettersModule,
    AuditStreamModule,
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [CONFIG],
      useFactory: (config: CustodianConfig) => {
        const production = config.env === 'production';
        return {
          path: '/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          introspection: !production,
          playground: false,
          includeStacktraceInErrorResponses: !production,
          context: ({ req }: { req: unknown }) => ({ req }),
          validationRules: [depthLimitRule()],
          plugins: [costLimitPlugin()],
          formatError: formatAdminError(production),
        };
      },
    }),
  ],
  providers: [
    PlatformResolver,
    AuthResolver,
    AuditLogService,
    AuditResolver,
    TenantsService,
    TenantsResolver,
    MembershipsService,
    MembershipsResolver,
    ApiKeysService,
    ApiKeysResolver,
  ],
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
