import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type { PoolConfig } from 'pg';

/**
 * PrismaPg with three workarounds for the JS/WASM schema engine (prisma.config.ts `engine: "js"`):
 *
 * 1. prisma/prisma#27403: the schema engine reads pg_catalog and gets columns of type `name`
 *    (oid 19) and `"char"` (oid 18), which @prisma/adapter-pg cannot map ("Column type 'name'
 *    could not be deserialized"). We report them (and their arrays) as text / text[]; pg already
 *    returns their values as strings. At runtime this also lets $queryRaw read catalog columns.
 *
 * 2. PrismaPgAdapter.executeScript (used by `migrate deploy` to run migration.sql) naively splits
 *    the script on ";", which breaks dollar-quoted bodies (plpgsql functions for triggers) and
 *    applies a migration statement by statement. We send the whole script as one simple-protocol
 *    query instead (like the native schema engine): PostgreSQL runs a multi-statement simple query
 *    as one implicit transaction, so a failing migration leaves nothing half-applied.
 *
 * 3. PrismaPg.connectToShadowDb (used by `migrate diff --from-migrations` and `migrate dev`) creates
 *    a temporary database but then connects with `{ ...config, database }`; when the config has a
 *    connectionString, pg lets the URL win, so the "shadow" pool is the MAIN database. We rebuild
 *    the URL with the temporary database name instead (the role needs CREATEDB for this).
 */
const TEXT = 25;
const TEXT_ARRAY = 1009;
const REMAP: Record<number, number> = { 19: TEXT, 18: TEXT, 1003: TEXT_ARRAY, 1002: TEXT_ARRAY };

type PerformIO = (query: unknown) => Promise<{ fields?: { dataTypeID: number }[] }>;
type Adapter = Awaited<ReturnType<PrismaPg['connect']>>;

function patchQueryable<T extends object>(q: T): T {
  const target = q as unknown as { performIO: PerformIO };
  const original = target.performIO.bind(q);
  target.performIO = async (query) => {
    const result = await original(query);
    for (const f of result?.fields ?? []) {
      const mapped = REMAP[f.dataTypeID];
      if (mapped !== undefined) f.dataTypeID = mapped;
    }
    return result;
  };
  return q;
}

function patchAdapter(adapter: Adapter): Adapter {
  patchQueryable(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) =>
    patchQueryable(await startTransaction(isolationLevel));
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      // onError is protected: it converts a pg error into Prisma's DriverAdapterError and throws.
      (adapter as unknown as { onError(e: unknown): never }).onError(error);
    }
  };
  return adapter;
}

export class PrismaPgCatalogSafe extends PrismaPg {
  constructor(
    private readonly poolConfig: PoolConfig,
    options?: ConstructorParameters<typeof PrismaPg>[1],
  ) {
    super(poolConfig, options);
  }

  override async connect(): Promise<Adapter> {
    return patchAdapter(await super.connect());
  }

  override async connectToShadowDb(): Promise<Adapter> {
    const main = await this.connect();
    const database = `prisma_migrate_shadow_db_${randomUUID()}`;
    await main.executeScript(`CREATE DATABASE "${database}"`);
    const config: PoolConfig = { ...this.poolConfig, database };
    if (config.connectionString) {
      const url = new URL(config.connectionString);
      url.pathname = `/${database}`;
      config.connectionString = url.toString();
    }
    const shadow = await new PrismaPgCatalogSafe(config).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await disposeShadow();
      await main.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
      await main.dispose();
    };
    return shadow;
  }
}
