import { Module } from '@nestjs/common';
import { DbModule } from '@custodian/db';
import { AuditStreamResolver } from './audit-stream.resolver';
import { AuditStreamService } from './audit-stream.service';

/** Streaming tenants' audit events to their sinks as OTLP logs (issue #6 item 4). */
@Module({
  imports: [DbModule],
  providers: [AuditStreamService, AuditStreamResolver],
  exports: [AuditStreamService],
})
export class AuditStreamModule {}
