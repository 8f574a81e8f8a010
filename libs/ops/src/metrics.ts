import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * The process's Prometheus registry. Process metrics carry the instance; every Custodian metric
 * that belongs to a role carries a `role` label, so one `--target=all` process and three
 * single-role processes are read the same way.
 */
export function createMetricsRegistry(opts: {
  instanceId: string;
  roles: readonly string[];
  version: string;
}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ instance_id: opts.instanceId });
  collectDefaultMetrics({ register: registry, prefix: 'custodian_process_' });
  const info = new Gauge({
    name: 'custodian_build_info',
    help: 'Always 1; labels give the version and the roles this process runs.',
    labelNames: ['version', 'roles'],
    registers: [registry],
  });
  info.set({ version: opts.version, roles: opts.roles.join(',') }, 1);
  const role = new Gauge({
    name: 'custodian_role_up',
    help: '1 for each role this process runs.',
    labelNames: ['role'],
    registers: [registry],
  });
  for (const r of opts.roles) role.set({ role: r }, 1);
  return registry;
}
