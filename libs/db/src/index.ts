export { DbModule, PrismaService } from './db.module';
export { createPrismaClient, PrismaClient, type Prisma } from './prisma';
export {
  TenantRepository,
  ApiKeyRepository,
  RepositoryError,
  type ApiKey,
  type Tenant,
  type Signal,
} from './repositories';
