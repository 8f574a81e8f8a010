/** Dead letters: list, redrive, purge a sink's dead letters (control plane only; no exports). */
import { Module } from '@nestjs/common';
import { SinksModule } from '../sinks/sinks.module';
import { DeadLettersResolver } from './dead-letters.resolver';
import { DeadLettersService } from './dead-letters.service';

@Module({
  imports: [SinksModule],
  providers: [DeadLettersService, DeadLettersResolver],
})
export class DeadLettersModule {}
