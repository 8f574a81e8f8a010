export { AdminModule, ADMIN_ROLE } from './admin.module';
export { AdminCoreModule } from './admin-core.module';
export { appendAuditEvent } from './audit/admin-audit.service';
