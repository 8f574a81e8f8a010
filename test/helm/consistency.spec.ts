/**
 * The chart, the Dockerfile, deploy/docker-compose.yml and libs/config describe one deployment;
 * these checks keep them from drifting: every setting Custodian reads is wired by the chart and
 * parses, and the image, ports, commands, user and shutdown timing agree everywhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS, loadConfig } from '@custodian/config';
import {
  FULLNAME,
  Manifest,
  PRODUCTION_VALUES,
  ROLES,
  ROOT,
  CHART,
  find,
  podSpec,
  render,
  roleName,
} from './helm';

jest.setTimeout(30000);

const SECRET_PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: 'postgresql://custodian:secret@postgres:5432/custodian',
  REDIS_URL: 'redis://redis:6379',
  CUSTODIAN_API_KEY_PEPPER: 'a-production-pepper-of-at-least-32-characters',
  CUSTODIAN_ENCRYPTION_KEY: '42'.repeat(32),
  CUSTODIAN_ADMIN_JWT_SECRET: 'a-production-admin-jwt-secret-of-32-characters-or-more',
};

/** The environment a role's container gets: ConfigMap, then literal env, then Secret refs. */
function containerEnv(manifests: Manifest[], role: string): Record<string, string> {
  const config = find(manifests, 'ConfigMap', FULLNAME).data ?? {};
  const [c] = podSpec(find(manifests, 'Deployment', roleName(role))).containers;
  const env: Record<string, string> = { ...config };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = SECRET_PLACEHOLDERS[e.name];
    else if (e.valueFrom?.fieldRef) env[e.name] = `${roleName(role)}-7d9f8c-abcde`;
  }
  const target = c.args?.find((a) => a.startsWith('--target='));
  if (target) env.CUSTODIAN_TARGET = target.slice('--target='.length);
  return env;
}

const KNOWN = new Set(Object.values(SETTINGS).map((s) => s.env));
const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
  image: { repository: string };
  kafka: { partitions: number };
  config: { shutdownTimeoutMs: number };
  podSecurityContext: { runAsUser: number };
};

describe.each([
  ['defaults', [] as string[]],
  ['production values', ['-f', PRODUCTION_VALUES]],
])('settings wired by the chart (%s)', (_name, args) => {
  const manifests = render(args);

  it('sets every setting of libs/config, and nothing else', () => {
    for (const role of ROLES) {
      const env = containerEnv(manifests, role);
      const missing = [...KNOWN].filter((name) => !(name in env));
      expect({ role, missing }).toEqual({ role, missing: [] });
    }
    const config = find(manifests, 'ConfigMap', FULLNAME).data ?? {};
    const unknown = Object.keys(config).filter((k) => !KNOWN.has(k));
    expect(unknown).toEqual([]);
  });

  it('gives each role a configuration Custodian accepts, with the container`s ports', () => {
    for (const role of ROLES) {
      const cfg = loadConfig(containerEnv(manifests, role));
      expect(cfg.env).toBe('production');
      expect(cfg.targets).toEqual([role]);
      const [c] = podSpec(find(manifests, 'Deployment', roleName(role))).containers;
      const port = (name: string) => c.ports?.find((p) => p.name === name)?.containerPort;
      expect(port('ops')).toBe(cfg.opsPort);
      if (role === 'gateway') {
        expect([port('otlp-grpc'), port('otlp-http'), port('zipkin')]).toEqual([
          cfg.otlpGrpcPort,
          cfg.otlpHttpPort,
          cfg.zipkinPort,
        ]);
      }
      if (role === 'admin') expect(port('graphql')).toBe(cfg.adminPort);
    }
  });
});

describe('the chart and libs/config agree on ports', () => {
  it('uses the documented default ports', () => {
    const defaults = loadConfig({});
    const env = containerEnv(render(), 'gateway');
    expect(Number(env.CUSTODIAN_OTLP_GRPC_PORT)).toBe(defaults.otlpGrpcPort);
    expect(Number(env.CUSTODIAN_OTLP_HTTP_PORT)).toBe(defaults.otlpHttpPort);
    expect(Number(env.CUSTODIAN_ZIPKIN_PORT)).toBe(defaults.zipkinPort);
    expect(Number(env.CUSTODIAN_ADMIN_PORT)).toBe(defaults.adminPort);
    expect(Number(env.CUSTODIAN_OPS_PORT)).toBe(defaults.opsPort);
  });
});

describe('deploy/docker-compose.yml matches the chart', () => {
  interface ComposeService {
    image?: string;
    command?: string[];
    entrypoint?: string[];
    environment?: Record<string, string>;
    read_only?: boolean;
    cap_drop?: string[];
    tmpfs?: string[];
    user?: string;
    stop_grace_period?: string;
  }
  const compose = parse(readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, ComposeService> };
  const manifests = render();

  it('runs the same image and role commands', () => {
    for (const role of ROLES) {
      const svc = compose.services[role];
      expect(svc.image?.split(':')[0]).toBe(values.image.repository);
      expect(svc.command).toEqual(
        podSpec(find(manifests, 'Deployment', roleName(role))).containers[0].args,
      );
    }
  });

  it('sets only variables the chart wires, with the same partition count', () => {
    const chartEnv = containerEnv(manifests, 'gateway');
    for (const role of ROLES) {
      for (const name of Object.keys(compose.services[role].environment ?? {})) {
        expect(chartEnv).toHaveProperty([name]);
      }
    }
    expect(compose.services.gateway.environment?.KAFKA_TOPIC_PARTITIONS).toBe(
      String(values.kafka.partitions),
    );
    expect(compose.services.gateway.environment?.CUSTODIAN_ENV).toBe('production');
  });

  it('migrates with the same command as the chart`s Job', () => {
    const [job] = podSpec(find(manifests, 'Job', roleName('migrations'))).containers;
    expect(compose.services.migrate.entrypoint).toEqual(job.command);
    expect(compose.services.migrate.environment?.HOME).toBe('/tmp');
  });

  it('locks containers down like the chart and lets them drain before SIGKILL', () => {
    for (const name of [...ROLES, 'migrate']) {
      const svc = compose.services[name];
      expect({ name, read_only: svc.read_only, cap_drop: svc.cap_drop }).toEqual({
        name,
        read_only: true,
        cap_drop: ['ALL'],
      });
      expect(svc.tmpfs).toContainEqual(expect.stringMatching(/^\/tmp(:|$)/));
    }
    const grace = (s: string | undefined) => Number(/^(\d+)s$/.exec(s ?? '')?.[1] ?? 0);
    for (const role of ROLES) {
      expect(grace(compose.services[role].stop_grace_period)).toBeGreaterThan(
        values.config.shutdownTimeoutMs / 1000,
      );
    }
  });
});

describe('Dockerfile matches the chart', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const manifests = render();

  it('runs as the numeric non-root user the chart declares (kubelet can verify runAsNonRoot)', () => {
    const user = /^USER\s+(\S+)/m.exec(finalStage)?.[1];
    expect(user).toBe(
      `${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsUser}`,
    );
  });

  it('exposes every container port of the chart', () => {
    const exposed = new Set(
      [...finalStage.matchAll(/^EXPOSE\s+(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/)),
    );
    for (const d of manifests.filter((m) => m.kind === 'Deployment')) {
      for (const p of podSpec(d).containers[0].ports ?? []) {
        expect(exposed).toContain(String(p.containerPort));
      }
    }
  });

  it('has the CLI as entrypoint, `start` as default command, and the migration tool inside', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      allowScripts: Record<string, boolean>;
    };
    const entrypoint = JSON.parse(
      /^ENTRYPOINT\s+(\[.*\])$/m.exec(finalStage)?.[1] ?? '[]',
    ) as string[];
    expect(entrypoint).toEqual(['node', pkg.bin.custodian]);
    expect(/^CMD\s+(\[.*\])$/m.exec(finalStage)?.[1]).toBe('["start"]');
    const [job] = podSpec(find(manifests, 'Job', roleName('migrations'))).containers;
    expect(existsSync(join(ROOT, job.command?.[1] ?? 'missing'))).toBe(true);
    // package.json allows no dependency install script (npm 11's allowScripts); the image's
    // npm does not read allowScripts, so the build must say so itself.
    if (Object.values(pkg.allowScripts).every((allowed) => !allowed)) {
      expect(dockerfile).toMatch(/npm ci [^\n]*--ignore-scripts/);
    }
  });
});
