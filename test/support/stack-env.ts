/**
 * Integration and e2e suites talk to the real services that deploy/local/up.sh starts
 * (test/run.sh starts them). They use their own database, so running the tests never touches
 * the demo tenant's data. deploy/local/env.sh's variables win when exported.
 */
const pgUser = process.env.PG_USER ?? 'custodian';
const pgPassword = process.env.PG_PASSWORD ?? 'custodian';
const pgPort = process.env.PG_PORT ?? '5432';
export const TEST_DATABASE = process.env.CUSTODIAN_TEST_DATABASE ?? 'custodian_test';

process.env.DATABASE_URL =
  process.env.CUSTODIAN_TEST_DATABASE_URL ??
  `postgresql://${pgUser}:${pgPassword}@127.0.0.1:${pgPort}/${TEST_DATABASE}`;
// Their own Redis database too: the local platform (`npm run up`) keeps its delivery queues and
// dead letters in database 0, and a test worker must never retry (or dead-letter) its batches.
process.env.REDIS_URL =
  process.env.CUSTODIAN_TEST_REDIS_URL ?? `redis://127.0.0.1:${process.env.REDIS_PORT ?? '6379'}/1`;
process.env.KAFKA_BROKERS ??= `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}`;
process.env.ZIPKIN_URL ??= `http://127.0.0.1:${process.env.ZIPKIN_PORT ?? '9412'}`;
process.env.CUSTODIAN_LOG_LEVEL ??= 'warn';
