/** Usage and span metrics (issue #6 item 3), over the trace module's AdminStore. */
import { Module } from '@nestjs/common';
import { TracesModule } from '../traces/traces.module';
import { UsageResolver } from './usage.resolver';
import { UsageService } from './usage.service';

@Module({
  imports: [TracesModule],
  providers: [UsageService, UsageResolver],
})
export class UsageModule {}
