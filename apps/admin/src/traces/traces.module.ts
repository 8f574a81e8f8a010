/**
 * Traces: search, view with restricted values masked, audited reveal (issue #6 item 3). Also
 * provides AdminStore, the admin role's access to the trace store and rollups, to the usage
 * module.
 */
import { Module } from '@nestjs/common';
import { RedisModule } from '@custodian/redis';
import { AdminStore } from './admin-store';
import { TracesResolver } from './traces.resolver';
import { TracesService } from './traces.service';

@Module({
  imports: [RedisModule],
  providers: [AdminStore, TracesService, TracesResolver],
  exports: [AdminStore],
})
export class TracesModule {}
