/**
 * One build, several roles (issue: `--target=all` for small installs, one role per process at
 * scale) and the foundation's process contract: /healthz, /readyz naming each role's
 * dependencies, /metrics carrying the roles, JSON logs, clean SIGTERM shutdown.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CustodianProcess, httpJson } from '../support/custodian-process';
import { freePort, listeningPorts, waitFor } from '../support/ports';
import { groupAtEnd } from '../support/worker-setup';

interface Readyz {
  status: string;
  checks: { role: string; dependency: string; ok: boolean; error?: string }[];
}

const running: CustodianProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/**
 * Starts `custodian start --target=…` on ports that were free a moment ago. Between freePort()
 * and the process binding them, another process (a client's outgoing connection, a parallel
 * suite) may take one: then the start fails with EADDRINUSE and is tried again on new ports.
 */
async function start(target: string, env: Record<string, string> = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(target, env);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof AddressInUse)) throw err;
    }
  }
}

class AddressInUse extends Error {}

async function startOnce(target: string, env: Record<string, string>) {
  const opsPort = await freePort();
  const adminPort = await freePort();
  const gatewayPorts = [await freePort(), await freePort(), await freePort()];
  // A worker of its own consumer group, starting after everything earlier suites produced: their
  // tenants (one with a deliberately undecryptable key) are not this test's business.
  const group = `e2e-roles-${randomBytes(4).toString('hex')}`;
  if (target === 'all' || target.includes('worker')) await groupAtEnd(group);
  const p = new CustodianProcess(['start', `--target=${target}`], {
    KAFKA_WORKER_GROUP: group,
    CUSTODIAN_OPS_PORT: String(opsPort),
    CUSTODIAN_ADMIN_PORT: String(adminPort),
    CUSTODIAN_OTLP_GRPC_PORT: String(gatewayPorts[0]),
    CUSTODIAN_OTLP_HTTP_PORT: String(gatewayPorts[1]),
    CUSTODIAN_ZIPKIN_PORT: String(gatewayPorts[2]),
    CUSTODIAN_BIND_HOST: '127.0.0.1',
    CUSTODIAN_INSTANCE_ID: `e2e-${target}`,
    ...env,
  });
  running.push(p);
  try {
    await p.waitForLog('custodian started');
  } catch (err) {
    if (!p.logText().includes('EADDRINUSE')) throw err;
    await p.stop('SIGKILL');
    running.splice(running.indexOf(p), 1);
    throw new AddressInUse((err as Error).message);
  }
  return { p, opsPort, adminPort, gatewayPorts };
}

const sorted = (ports: number[]) => [...ports].sort((a, b) => a - b);

async function readyz(opsPort: number): Promise<{ status: number; body: Readyz }> {
  const r = await httpJson(`http://127.0.0.1:${opsPort}/readyz`);
  return { status: r.status, body: r.body as Readyz };
}

async function waitReady(opsPort: number): Promise<Readyz> {
  return waitFor('readyz 200', async () => {
    const r = await readyz(opsPort);
    return r.status === 200 ? r.body : undefined;
  });
}

function deps(body: Readyz): string[] {
  return body.checks.map((c) => `${c.role}:${c.dependency}`).sort();
}

describe('custodian start', () => {
  it('--target=all runs every role in one process with one ops port and stops cleanly on SIGTERM', async () => {
    const { p, opsPort, adminPort, gatewayPorts } = await start('all');
    const ready = await waitReady(opsPort);
    expect(deps(ready)).toEqual([
      'admin:postgres',
      'admin:redis',
      'gateway:kafka',
      'gateway:postgres',
      'gateway:redis',
      'worker:kafka',
      'worker:postgres',
      'worker:redis',
    ]);
    expect(listeningPorts(p.pid)).toEqual(sorted([opsPort, adminPort, ...gatewayPorts]));

    const health = await httpJson(`http://127.0.0.1:${opsPort}/healthz`);
    expect(health).toEqual({ status: 200, body: { status: 'ok', phase: 'running' } });

    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /custodian_build_info\{version="[^"]+",roles="gateway,worker,admin",instance_id="e2e-all"\} 1/,
    );
    for (const role of ['gateway', 'worker', 'admin']) {
      expect(metrics).toContain(`custodian_role_up{role="${role}",instance_id="e2e-all"} 1`);
    }
    expect(metrics).toContain(
      'custodian_dependency_up{role="worker",dependency="kafka",instance_id="e2e-all"} 1',
    );

    const gql = await httpJson(`http://127.0.0.1:${adminPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ platform { version roles } }' }),
    });
    expect(gql.status).toBe(200);
    expect(gql.body).toEqual({
      data: { platform: { version: expect.any(String), roles: ['gateway', 'worker', 'admin'] } },
    });

    // Logs are JSON lines carrying the instance and roles.
    const started = await p.waitForLog('custodian started');
    expect(started).toMatchObject({
      level: 'info',
      instance: 'e2e-all',
      roles: 'gateway,worker,admin',
    });

    const t0 = Date.now();
    const exit = await p.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10000);
    const msgs = p.logs.map((l) => l.msg);
    expect(msgs.indexOf('custodian stopping: draining')).toBeGreaterThan(-1);
    expect(msgs.indexOf('custodian stopped')).toBeGreaterThan(
      msgs.indexOf('custodian stopping: draining'),
    );
    expect(p.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });

  it.each([
    ['gateway', ['gateway:kafka', 'gateway:postgres', 'gateway:redis'], true],
    ['worker', ['worker:kafka', 'worker:postgres', 'worker:redis'], false],
  ])(
    '--target=%s starts only its role: its own dependencies and ports, no GraphQL',
    async (role, expected, receivers) => {
      const { p, opsPort, adminPort, gatewayPorts } = await start(role);
      const ready = await waitReady(opsPort);
      expect(deps(ready)).toEqual(expected);
      // The gateway adds its OTLP/gRPC, OTLP/HTTP and Zipkin receivers; the worker only the ops port.
      expect(listeningPorts(p.pid)).toEqual(sorted([opsPort, ...(receivers ? gatewayPorts : [])]));
      await expect(fetch(`http://127.0.0.1:${adminPort}/graphql`)).rejects.toThrow();
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toContain(`custodian_role_up{role="${role}"`);
      expect(metrics).not.toMatch(/custodian_role_up\{role="admin"/);
      expect(await p.stop()).toEqual({ code: 0, signal: null });
    },
  );

  it('--target=admin needs no Kafka: ready with Kafka unreachable, serving GraphQL on its port', async () => {
    const deadKafka = await freePort();
    const { p, opsPort, adminPort } = await start('admin', {
      KAFKA_BROKERS: `127.0.0.1:${deadKafka}`,
    });
    const ready = await waitReady(opsPort);
    expect(deps(ready)).toEqual(['admin:postgres', 'admin:redis']);
    expect(listeningPorts(p.pid)).toEqual([opsPort, adminPort].sort((a, b) => a - b));
    expect(await p.stop()).toEqual({ code: 0, signal: null });
  });

  it('reports not ready while a dependency is down, naming it, and ready once it answers', async () => {
    const redisPort = await freePort();
    const { p, opsPort } = await start('admin', { REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    const down = await readyz(opsPort);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('not_ready');
    const redis = down.body.checks.find((c) => c.dependency === 'redis')!;
    expect(redis.ok).toBe(false);
    expect(redis.error).toBeTruthy();
    expect(down.body.checks.find((c) => c.dependency === 'postgres')!.ok).toBe(true);
    // Liveness is not readiness: the process is alive and says so.
    expect((await httpJson(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);

    // Bring a real Redis up on that port: the process notices without a restart.
    const server = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    try {
      const ready = await waitReady(opsPort);
      expect(ready.checks.every((c) => c.ok)).toBe(true);
    } finally {
      server.kill('SIGKILL');
    }
    expect(p.pid).toBeGreaterThan(0);
  });

  it('refuses to start on a bad setting, naming the variable, without opening a port', async () => {
    const p = new CustodianProcess(['start', '--target=gateway,ingester'], {
      CUSTODIAN_OPS_PORT: 'ninety',
    });
    running.push(p);
    const exit = await p.exited();
    expect(exit.code).toBe(78);
    expect(p.stderr).toContain('CUSTODIAN_OPS_PORT: expected an integer, got "ninety"');
    expect(p.stderr).toContain('CUSTODIAN_TARGET: unknown role "ingester"');
  });
});
