/**
 * deploy/docker-compose.yml cannot run on machines without Docker, so its consistency with the
 * code and the local scripts is checked here: every variable it sets is a real setting, values
 * parse, one role per service, and the ports are the documented defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SETTINGS, loadConfig } from '@custodian/config';

const ROOT = join(__dirname, '..', '..');
interface Service {
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const envSh = readFileSync(join(ROOT, 'deploy', 'local', 'env.sh'), 'utf8');

function localDefault(name: string): string {
  const m = new RegExp(`: "\\$\\{${name}:=([^}]*)\\}"`).exec(envSh);
  if (!m) throw new Error(`${name} not in deploy/local/env.sh`);
  return m[1];
}

describe('deploy/docker-compose.yml', () => {
  const roles = ['gateway', 'worker', 'admin'] as const;

  it('runs one role per service, each with only known, valid settings', () => {
    const known = new Set(Object.values(SETTINGS).map((s) => s.env));
    for (const role of roles) {
      const svc = compose.services[role];
      expect(svc.command).toEqual(['start', `--target=${role}`]);
      const env = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [
          k,
          String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'),
        ]),
      );
      for (const name of Object.keys(env)) expect(known).toContain(name);
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('publishes the documented ports', () => {
    const defaults = loadConfig({});
    const published = (svc: string) => (compose.services[svc].ports ?? []).map((p) => p.split(':'));
    expect(published('gateway')).toEqual(
      expect.arrayContaining([
        [String(defaults.otlpGrpcPort), String(defaults.otlpGrpcPort)],
        [String(defaults.otlpHttpPort), String(defaults.otlpHttpPort)],
        [String(defaults.zipkinPort), String(defaults.zipkinPort)],
        [String(defaults.opsPort), String(defaults.opsPort)],
      ]),
    );
    expect(published('admin')).toContainEqual([
      String(defaults.adminPort),
      String(defaults.adminPort),
    ]);
    expect(published('postgres')).toEqual([[localDefault('PG_PORT'), '5432']]);
    expect(published('redis')).toEqual([[localDefault('REDIS_PORT'), '6379']]);
    expect(published('kafka')).toEqual([[localDefault('KAFKA_PORT'), '9092']]);
    // Zipkin the backend sits on 9412; 9411 is Custodian's own Zipkin receiver.
    expect(published('zipkin')).toEqual([[localDefault('ZIPKIN_PORT'), '9411']]);
  });
});
