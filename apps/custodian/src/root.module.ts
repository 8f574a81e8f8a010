import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { Role } from '@custodian/config';
import { OpsModule, type ProcessServices } from '@custodian/ops';
import { AdminModule } from '@custodian/admin';
import { GatewayModule } from '@custodian/gateway';
import { WorkerModule } from '@custodian/worker';

const ROLE_MODULES: Record<Role, Type> = {
  gateway: GatewayModule,
  worker: WorkerModule,
  admin: AdminModule,
};

/**
 * One process, any set of roles: the root module imports exactly the role modules asked for,
 * so a gateway-only process never constructs a worker consumer or a GraphQL server. Shared
 * clients (PostgreSQL, Redis, Kafka admin) are Nest singletons, one per process.
 */
@Module({})
export class RootModule {
  static forRoles(roles: readonly Role[], services: ProcessServices): DynamicModule {
    return {
      module: RootModule,
      imports: [OpsModule.forProcess(services), ...roles.map((r) => ROLE_MODULES[r])],
    };
  }
}
