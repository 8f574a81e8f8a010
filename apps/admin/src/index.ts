export { AdminModule, ADMIN_ROLE } from './admin.module';
