export { WorkerModule, WORKER_ROLE } from './worker.module';
