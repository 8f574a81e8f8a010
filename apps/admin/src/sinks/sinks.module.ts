/** Sinks: create, update, delete, enable, clear for restricted values, test connectivity. */
import { Module } from '@nestjs/common';
import { DbModule } from '@custodian/db';
import { SinksResolver } from './sinks.resolver';
import { SinksService } from './sinks.service';

@Module({
  imports: [DbModule],
  providers: [SinksService, SinksResolver],
  exports: [SinksService],
})
export class SinksModule {}
