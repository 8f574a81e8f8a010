import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * Resolution of the event-loop delay histogram (custodian_process_nodejs_eventloop_lag_*).
 * prom-client's default of 10 ms is a libuv timer waking the process 100 times a second; measured
 * on an idle gateway+worker process, that alone was ~1% of a core (3.8% → 2.8%), a fixed cost
 * the OpenTelemetry Collector does not pay. At 100 ms the histogram still records every stall of
 * the loop longer than that as a delayed sample, which is what it is read for.
 */
export const EVENT_LOOP_MONITOR_MS = 100;

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
  collectDefaultMetrics({
    register: registry,
    prefix: 'custodian_process_',
    eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_MS,
  });
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
