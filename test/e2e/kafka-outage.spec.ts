/**
 * Kafka stopped under the gateway, then started again (the real broker, via the project's own
 * scripts): while it is down every request gets 503 with Retry-After and readiness says so;
 * once it is back, ingest resumes by itself and every span that was ever acknowledged is in
 * Kafka.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { REPO_ROOT } from '../support/custodian-process';
import { startGateway, tenantWithKey } from '../support/gateway-process';
import { endOffsets, tracesInKafka } from '../support/kafka-read';
import { waitFor } from '../support/ports';

const run = promisify(execFile);
const script = (name: string) => join(REPO_ROOT, 'deploy', 'local', name);

let db: PrismaClient;
beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
});
afterAll(async () => {
  await run('bash', [script('up.sh'), 'kafka'], { timeout: 120000 });
  await db.$disconnect();
});

function request(spans: number) {
  const ids = Array.from({ length: spans }, () => randomBytes(8).toString('hex'));
  const body = JSON.stringify({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: ids.map((spanId) => ({
              traceId: randomBytes(16).toString('hex'),
              spanId,
              name: 'op',
            })),
          },
        ],
      },
    ],
  });
  return { ids, body };
}

it('503 while Kafka is down, and everything acknowledged is in Kafka once it is back', async () => {
  const { proc, ports } = await startGateway({ CUSTODIAN_PRODUCE_TIMEOUT_MS: '1500' });
  const { tenantId, key } = await tenantWithKey(db);
  const from = await endOffsets('traces');
  const acked: string[] = [];
  const send = async (spans = 5) => {
    const r = request(spans);
    const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: r.body,
    });
    if (res.status === 200) acked.push(...r.ids);
    return res;
  };
  try {
    for (let i = 0; i < 10; i++) expect((await send()).status).toBe(200);

    await run('bash', [script('down.sh'), 'kafka'], { timeout: 120000 });
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await waitFor('readyz 503', async () =>
      (await fetch(`http://127.0.0.1:${ports.ops}/readyz`)).status === 503 ? true : undefined,
    );
    for (let i = 0; i < 3; i++) expect([503]).toContain((await send()).status);

    await run('bash', [script('up.sh'), 'kafka'], { timeout: 120000 });
    await waitFor(
      'gateway ready again',
      async () =>
        (await fetch(`http://127.0.0.1:${ports.ops}/readyz`)).status === 200 ? true : undefined,
      60000,
      500,
    );
    // A client retries what was refused; ingest resumes without restarting the gateway.
    await waitFor(
      'ingest to resume',
      async () => ((await send()).status === 200 ? true : undefined),
      60000,
      1000,
    );
    for (let i = 0; i < 10; i++) expect((await send()).status).toBe(200);

    const spans = await tracesInKafka(tenantId, from, (s) => {
      const have = new Set(s.map((x) => x.spanId));
      return acked.every((id) => have.has(id));
    });
    const have = new Set(spans.map((s) => s.spanId));
    expect(acked.filter((id) => !have.has(id))).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(105);
  } finally {
    await proc.stop();
  }
});
