/** Policy versions: submit, list, diff, activate, roll back, dry-run (issue #6 item 3). */
import { Module } from '@nestjs/common';
import { DbModule } from '@custodian/db';
import { PoliciesResolver } from './policies.resolver';
import { PoliciesService } from './policies.service';

@Module({
  imports: [DbModule],
  providers: [PoliciesService, PoliciesResolver],
  exports: [PoliciesService],
})
export class PoliciesModule {}
