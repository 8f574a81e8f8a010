/**
 * The admin API's core, shared by every feature module (tenants, keys, policies, sinks,
 * traces…): identity (AuthService), the audit writer (AdminAudit) and the global guard. Global,
 * so a feature module only imports what it builds on and injects AdminAudit directly; the guard
 * is APP_GUARD, so it covers resolvers of modules that do not know it exists.
 */
import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { DbModule } from '@custodian/db';
import { RedisModule } from '@custodian/redis';
import { AdminAudit } from './audit/admin-audit.service';
import { AuthService } from './auth/auth.service';
import { AdminAuthGuard } from './auth/authorization.guard';
import { AuthorizationCoverage } from './auth/authorization-coverage';
import { ClientErrorFilter } from './graphql/client-error.filter';

@Global()
@Module({
  imports: [DbModule, RedisModule, DiscoveryModule],
  providers: [
    AdminAudit,
    AuthService,
    AuthorizationCoverage,
    { provide: APP_GUARD, useClass: AdminAuthGuard },
    { provide: APP_FILTER, useClass: ClientErrorFilter },
  ],
  exports: [AdminAudit, AuthService, AuthorizationCoverage],
})
export class AdminCoreModule {}
