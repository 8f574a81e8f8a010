/**
 * The trace store's own `pg` pool. Separate from Prisma's (libs/db): the store writes
 * partitioned tables Prisma cannot model, in multi-row statements with bytea and array
 * parameters, and a busy store sink must not starve the control-plane queries of connections.
 */
import { Pool } from 'pg';

export function createStorePool(databaseUrl: string, max = 5): Pool {
  return new Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
}
