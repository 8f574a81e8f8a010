import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import { CONFIG } from '@custodian/ops';
import { createPrismaClient, type PrismaClient } from './prisma';
import { ApiKeyRepository, TenantRepository } from './repositories';

/**
 * The process's one PostgreSQL pool, shared by every role in it. Connections are opened on
 * first use, so a process started before its database reports not-ready instead of failing.
 */
@Injectable()
export class PrismaService implements OnApplicationShutdown {
  readonly client: PrismaClient;

  constructor(@Inject(CONFIG) config: CustodianConfig) {
    this.client = createPrismaClient(config.databaseUrl);
  }

  async probe(): Promise<void> {
    await this.client.$queryRaw`SELECT 1`;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.$disconnect();
  }
}

@Module({
  providers: [
    PrismaService,
    {
      provide: TenantRepository,
      inject: [PrismaService],
      useFactory: (p: PrismaService) => new TenantRepository(p.client),
    },
    {
      provide: ApiKeyRepository,
      inject: [PrismaService],
      useFactory: (p: PrismaService) => new ApiKeyRepository(p.client),
    },
  ],
  exports: [PrismaService, TenantRepository, ApiKeyRepository],
})
export class DbModule {}
