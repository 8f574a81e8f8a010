import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { Role } from '@custodian/config';
import { OpsModule, type ProcessServices } from '@custodian/ops';

/**
 * Each role's module, loaded only when the process runs that role: a gateway-only process
 * never even loads the GraphQL server's code, let alone starts it.
 */
const ROLE_MODULES: Record<Role, () => Promise<Type>> = {
  gateway: async () => (await import('@custodian/gateway')).GatewayModule,
  worker: async () => (await import('@custodian/worker')).WorkerModule,
  admin: async () => (await import('@custodian/admin')).AdminModule,
};

/**
 * One process, any set of roles: the root module imports exactly the role modules asked for,
 * so a gateway-only process never constructs a worker consumer or a GraphQL server. Shared
 * clients (PostgreSQL, Redis, Kafka admin) are Nest singletons, one per process.
 */
@Module({})
export class RootModule {
  static async forRoles(roles: readonly Role[], services: ProcessServices): Promise<DynamicModule> {
    const modules = await Promise.all(roles.map((r) => ROLE_MODULES[r]()));
    return { module: RootModule, imports: [OpsModule.forProcess(services), ...modules] };
  }
}
