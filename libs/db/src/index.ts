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
export {
  TenantKeyRepository,
  SinkRepository,
  PolicyVersionRepository,
  type ActivePolicy,
  type JsonObject,
  type NewPolicyVersion,
  type NewSink,
  type PolicyFormat,
  type PolicyVersion,
  type Sink,
  type SinkKind,
  type SinkPatch,
  type TenantChange,
  type TenantKey,
} from './tenant-config.repositories';
export { isUuid } from './uuid';
