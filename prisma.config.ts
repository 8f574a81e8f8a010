import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPgCatalogSafe } from './libs/db/src/pg-adapter';

// The Prisma CLI reads no .env when this file exists, and without DATABASE_URL it falls back to
// downloading native engines (impossible offline). `prisma generate` never connects, so the
// local default (deploy/local/env.sh, libs/config) is a safe fallback.
process.env.DATABASE_URL ||= 'postgresql://custodian:custodian@127.0.0.1:5432/custodian';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    // allowExitOnIdle: the CLI never disposes the adapter; without it each command idles ~10 s.
    return new PrismaPgCatalogSafe({
      connectionString: process.env.DATABASE_URL,
      allowExitOnIdle: true,
    });
  },
});
