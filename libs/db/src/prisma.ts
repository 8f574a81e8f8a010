import { PrismaClient } from './generated/prisma/client';
import { PrismaPgCatalogSafe } from './pg-adapter';

export { PrismaClient };
export type { Prisma } from './generated/prisma/client';

/**
 * A Prisma client on the binary-free path (driver adapter over `pg`), the only one that works
 * where Prisma's native engines cannot be downloaded (../shared/ARCHITECTURE.md).
 */
export function createPrismaClient(databaseUrl: string, poolSize = 10): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPgCatalogSafe({
      connectionString: databaseUrl,
      max: poolSize,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30000,
    }),
  });
}
