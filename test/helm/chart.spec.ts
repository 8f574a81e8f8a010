/**
 * helm/custodian as an operator would get it: `helm lint --strict`, then the manifests
 * `helm template` renders with the defaults and with ci/production-values.yaml, checked for what
 * the chart promises (issue #7): probes, resources and a locked-down security context on every
 * container, the OTLP/Zipkin/admin/ops ports behind Services, migrations ordered before the pods,
 * autoscaling that respects Kafka's partition count, and graceful termination that outlasts the
 * drain.
 */
import {
  FULLNAME,
  Manifest,
  PRODUCTION_VALUES,
  ROLES,
  allContainers,
  find,
  helm,
  KUBE_VERSION,
  CHART,
  ofKind,
  podAnnotations,
  podSpec,
  render,
  roleName,
} from './helm';

jest.setTimeout(30000);

const VARIANTS: [string, string[]][] = [
  ['defaults', []],
  ['production values', ['-f', PRODUCTION_VALUES]],
];

function configData(manifests: Manifest[]): Record<string, string> {
  return find(manifests, 'ConfigMap', FULLNAME).data ?? {};
}

function hooks(m: Manifest): string[] {
  return (m.metadata.annotations?.['helm.sh/hook'] ?? '').split(',').filter((h) => h !== '');
}

function hookWeight(m: Manifest): number {
  return Number(m.metadata.annotations?.['helm.sh/hook-weight'] ?? '0');
}

function selectorOf(m: Manifest): Record<string, string> {
  const spec = m.spec as { selector?: { matchLabels?: Record<string, string> } };
  return spec.selector?.matchLabels ?? {};
}

function podLabels(m: Manifest): Record<string, string> {
  const spec = m.spec as { template: { metadata: { labels: Record<string, string> } } };
  return spec.template.metadata.labels;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  appProtocol?: string;
}
const servicePorts = (m: Manifest): ServicePort[] => (m.spec as { ports: ServicePort[] }).ports;

describe('helm lint --strict', () => {
  it.each(VARIANTS)('passes with %s', (_name, values) => {
    const r = helm(['lint', '--strict', CHART, '--kube-version', KUBE_VERSION, ...values]);
    expect(r.stderr + r.stdout).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('fails on values the schema refuses', () => {
    const r = helm([
      'lint',
      '--strict',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'kafka.partitions=0',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toContain("at '/kafka/partitions'");
  });
});

describe.each(VARIANTS)('helm template with %s', (_name, values) => {
  const manifests = render(values);
  const deployments = ofKind(manifests, 'Deployment');
  const job = find(manifests, 'Job', roleName('migrations'));
  const config = configData(manifests);

  it('runs one Deployment per role, each `custodian start --target=<role>`', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(ROLES.map(roleName).sort());
    for (const role of ROLES) {
      const [container] = podSpec(find(manifests, 'Deployment', roleName(role))).containers;
      expect(container.args).toEqual(['start', `--target=${role}`]);
      expect(container.command).toBeUndefined(); // the image's ENTRYPOINT is the CLI
    }
  });

  it('gives every container resource requests and a memory limit', () => {
    for (const m of [...deployments, job]) {
      for (const c of allContainers(podSpec(m))) {
        expect({ container: c.name, requests: Object.keys(c.resources?.requests ?? {}) }).toEqual({
          container: c.name,
          requests: expect.arrayContaining(['cpu', 'memory']),
        });
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('probes every long-running container on the ops port', () => {
    for (const d of deployments) {
      for (const c of allContainers(podSpec(d))) {
        const ops = c.ports?.find((p) => p.name === 'ops');
        expect(ops?.containerPort).toBe(Number(config.CUSTODIAN_OPS_PORT));
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'ops' });
        expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'ops' });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'ops' });
        // /readyz may spend CUSTODIAN_READINESS_TIMEOUT_MS on a dependency check.
        expect((c.readinessProbe?.timeoutSeconds ?? 1) * 1000).toBeGreaterThan(
          Number(config.CUSTODIAN_READINESS_TIMEOUT_MS),
        );
      }
    }
  });

  it('runs every container non-root, read-only, without privileges or capabilities', () => {
    for (const m of [...deployments, job]) {
      const spec = podSpec(m);
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of allContainers(spec)) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext?.capabilities?.add ?? []).toEqual([]);
        // The only writable path: an emptyDir at /tmp.
        expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
        expect(spec.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
      }
    }
  });

  it('exposes OTLP gRPC, OTLP HTTP and Zipkin on the gateway Service, GraphQL on the admin', () => {
    const gatewayPod = podSpec(find(manifests, 'Deployment', roleName('gateway'))).containers[0];
    const gateway = find(manifests, 'Service', roleName('gateway'));
    const byName = Object.fromEntries(servicePorts(gateway).map((p) => [p.name, p]));
    expect(byName['otlp-grpc']).toMatchObject({ port: 4317, appProtocol: 'grpc' });
    expect(byName['otlp-http']).toMatchObject({ port: 4318 });
    expect(byName.zipkin).toMatchObject({ port: 9411 });
    // The ops port is never on the (possibly public) receiver Service.
    expect(byName.ops).toBeUndefined();
    for (const p of servicePorts(gateway)) {
      expect(gatewayPod.ports?.map((cp) => cp.name)).toContain(p.targetPort);
    }
    expect(config.CUSTODIAN_OTLP_GRPC_PORT).toBe('4317');
    expect(config.CUSTODIAN_OTLP_HTTP_PORT).toBe('4318');
    expect(config.CUSTODIAN_ZIPKIN_PORT).toBe('9411');

    const admin = find(manifests, 'Service', roleName('admin'));
    expect(servicePorts(admin)).toEqual([
      expect.objectContaining({ port: 4000, targetPort: 'graphql' }),
    ]);
    expect(config.CUSTODIAN_ADMIN_PORT).toBe('4000');
  });

  it('has an ops Service per role, and every Service selects exactly its role`s pods', () => {
    for (const role of ROLES) {
      const ops = find(manifests, 'Service', `${roleName(role)}-ops`);
      expect(servicePorts(ops)).toEqual([
        expect.objectContaining({ name: 'ops', port: 9464, targetPort: 'ops' }),
      ]);
    }
    for (const svc of ofKind(manifests, 'Service')) {
      const selector = (svc.spec as { selector: Record<string, string> }).selector;
      const selected = deployments.filter((d) => matches(selector, podLabels(d)));
      expect({ svc: svc.metadata.name, selected: selected.length }).toEqual({
        svc: svc.metadata.name,
        selected: 1,
      });
    }
  });

  it('gives a drain time that outlasts the preStop sleep plus CUSTODIAN_SHUTDOWN_TIMEOUT_MS', () => {
    const shutdownSeconds = Number(config.CUSTODIAN_SHUTDOWN_TIMEOUT_MS) / 1000;
    for (const d of deployments) {
      const spec = podSpec(d);
      const sleep = spec.containers[0].lifecycle?.preStop?.exec?.command;
      const sleepSeconds = sleep ? Number(sleep[1]) : 0;
      if (sleep) expect(sleep[0]).toBe('sleep');
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(sleepSeconds + shutdownSeconds);
    }
    // Receivers keep serving until endpoints drop them.
    const gw = podSpec(find(manifests, 'Deployment', roleName('gateway'))).containers[0];
    expect(gw.lifecycle?.preStop?.exec?.command?.[0]).toBe('sleep');
  });

  it('scales the gateway on CPU and never scales the worker past the partition count', () => {
    const hpa = (role: string) => find(manifests, 'HorizontalPodAutoscaler', roleName(role));
    const gw = hpa('gateway').spec as {
      scaleTargetRef: { kind: string; name: string };
      metrics: { resource: { name: string } }[];
    };
    expect(gw.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: roleName('gateway') });
    expect(gw.metrics.map((m) => m.resource.name)).toEqual(['cpu']);
    const worker = hpa('worker').spec as { maxReplicas: number };
    expect(worker.maxReplicas).toBeLessThanOrEqual(Number(config.KAFKA_TOPIC_PARTITIONS));
    // With an HPA, the Deployment leaves replicas to it (no fight on every upgrade).
    expect(find(manifests, 'Deployment', roleName('gateway')).spec?.replicas).toBeUndefined();
  });

  it('protects every role with a PodDisruptionBudget over exactly its pods', () => {
    for (const role of ROLES) {
      const pdb = find(manifests, 'PodDisruptionBudget', roleName(role));
      const deployment = find(manifests, 'Deployment', roleName(role));
      expect(selectorOf(pdb)).toEqual(selectorOf(deployment));
      expect((pdb.spec as { maxUnavailable: number }).maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('migrates the database in a hook that runs before any pod is created or rolled', () => {
    expect(hooks(job).sort()).toEqual(['pre-install', 'pre-upgrade']);
    for (const m of manifests.filter((x) => x !== job && x.kind !== 'Secret')) {
      expect({ m: `${m.kind}/${m.metadata.name}`, hooks: hooks(m) }).toEqual({
        m: `${m.kind}/${m.metadata.name}`,
        hooks: [],
      });
    }
    const spec = podSpec(job);
    expect(spec.restartPolicy).toBe('Never');
    const [c] = spec.containers;
    expect(c.command).toEqual(['node', 'node_modules/prisma/build/index.js', 'migrate', 'deploy']);
    expect(c.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    // Same database as the roles, read from the same Secret.
    const gw = podSpec(find(manifests, 'Deployment', roleName('gateway'))).containers[0];
    const dbRef = (env: typeof c.env) =>
      env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(dbRef(c.env)).toEqual(dbRef(gw.env));
    // Hooks run before the release's ServiceAccount exists.
    expect(spec.serviceAccountName).toBeUndefined();
  });

  it('wires settings through the ConfigMap and secrets through Secret references only', () => {
    for (const d of deployments) {
      const [c] = podSpec(d).containers;
      expect(c.envFrom).toEqual([{ configMapRef: { name: FULLNAME } }]);
      const secretNames = [
        'DATABASE_URL',
        'REDIS_URL',
        'CUSTODIAN_API_KEY_PEPPER',
        'CUSTODIAN_ENCRYPTION_KEY',
      ];
      for (const name of secretNames) {
        const e = c.env?.find((x) => x.name === name);
        expect(e?.value).toBeUndefined();
        expect(e?.valueFrom?.secretKeyRef?.name).toBeTruthy();
        expect(config[name]).toBeUndefined();
      }
      expect(c.env?.find((x) => x.name === 'CUSTODIAN_INSTANCE_ID')?.valueFrom?.fieldRef).toEqual({
        fieldPath: 'metadata.name',
      });
    }
    expect(config.CUSTODIAN_ENV).toBe('production');
    // No secret material is rendered when only references are given.
    expect(ofKind(manifests, 'Secret')).toEqual([]);
  });
});

describe('rendering rules', () => {
  it('rolls the pods when a setting changes (config checksum)', () => {
    const checksum = (values: string[]) =>
      podAnnotations(find(render(values), 'Deployment', roleName('worker')))['checksum/config'];
    expect(checksum([])).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(['--set', 'config.logLevel=debug'])).not.toBe(checksum([]));
  });

  it('refuses more worker replicas than partitions, with or without autoscaling', () => {
    const r = helm([
      'template',
      'x',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '--set',
      'worker.autoscaling.enabled=false',
      '--set',
      'worker.replicaCount=7',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('worker.replicaCount (7) must not exceed kafka.partitions (6)');
    const ok = render([
      '--set',
      'kafka.partitions=12',
      '--set',
      'worker.autoscaling.maxReplicas=12',
    ]);
    expect(configData(ok).KAFKA_TOPIC_PARTITIONS).toBe('12');
    expect(
      (find(ok, 'HorizontalPodAutoscaler', roleName('worker')).spec as { maxReplicas: number })
        .maxReplicas,
    ).toBe(12);
  });

  it('keeps inline development secrets in a Secret, and gives the migration hook its own copy first', () => {
    const m = render([
      '--set',
      'database.url=postgresql://u:p@db:5432/custodian',
      '--set',
      'redis.url=redis://redis:6379',
      '--set',
      'secrets.apiKeyPepper.value=0123456789abcdef0123456789abcdef',
      '--set',
      `secrets.encryptionKey.value=${'ab'.repeat(32)}`,
    ]);
    const secret = find(m, 'Secret', FULLNAME);
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(
      ['CUSTODIAN_API_KEY_PEPPER', 'CUSTODIAN_ENCRYPTION_KEY', 'DATABASE_URL', 'REDIS_URL'].sort(),
    );
    expect(hooks(secret)).toEqual([]);
    const [gw] = podSpec(find(m, 'Deployment', roleName('gateway'))).containers;
    expect(gw.env?.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: FULLNAME,
      key: 'REDIS_URL',
    });

    const job = find(m, 'Job', roleName('migrations'));
    const hookSecret = find(m, 'Secret', roleName('migrations'));
    expect(hooks(hookSecret).sort()).toEqual(['pre-install', 'pre-upgrade']);
    expect(hookWeight(hookSecret)).toBeLessThan(hookWeight(job));
    expect(hookSecret.stringData?.DATABASE_URL).toBe('postgresql://u:p@db:5432/custodian');
    const [migrate] = podSpec(job).containers;
    expect(migrate.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: roleName('migrations'),
      key: 'DATABASE_URL',
    });
  });

  it('adds config.extra to the ConfigMap but refuses names the chart owns', () => {
    const m = render(['--set-string', 'config.extra.CUSTODIAN_FUTURE_SETTING=on']);
    expect(configData(m).CUSTODIAN_FUTURE_SETTING).toBe('on');
    const r = helm([
      'template',
      'x',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '--set-string',
      'config.extra.KAFKA_BROKERS=elsewhere:9092',
      '--set-string',
      'config.extra.DATABASE_URL=postgresql://x@y/z',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('config.extra.KAFKA_BROKERS');
    expect(r.stderr).toContain('config.extra.DATABASE_URL');
  });

  it('renders no migration Job when migrations are applied elsewhere', () => {
    expect(ofKind(render(['--set', 'migrations.enabled=false']), 'Job')).toEqual([]);
  });

  it('pins the image by digest when one is given', () => {
    const m = render(['-f', PRODUCTION_VALUES]);
    for (const d of [...ofKind(m, 'Deployment'), ...ofKind(m, 'Job')]) {
      expect(podSpec(d).containers[0].image).toBe(
        'registry.example.com/platform/custodian:0.1.0@sha256:' +
          '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      );
    }
  });
});

describe('optional resources (production values)', () => {
  const m = render(['-f', PRODUCTION_VALUES]);

  it('routes each Ingress to a named port of an existing Service', () => {
    const ingresses = ofKind(m, 'Ingress');
    expect(ingresses.map((i) => i.metadata.name).sort()).toEqual(
      [`${FULLNAME}-admin`, `${FULLNAME}-otlp-grpc`, `${FULLNAME}-otlp-http`].sort(),
    );
    const expected: Record<string, [string, string]> = {
      [`${FULLNAME}-otlp-http`]: [roleName('gateway'), 'otlp-http'],
      [`${FULLNAME}-otlp-grpc`]: [roleName('gateway'), 'otlp-grpc'],
      [`${FULLNAME}-admin`]: [roleName('admin'), 'graphql'],
    };
    for (const ing of ingresses) {
      const spec = ing.spec as {
        rules: {
          host: string;
          http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] };
        }[];
        tls: unknown[];
      };
      expect(spec.tls.length).toBeGreaterThan(0);
      for (const rule of spec.rules) {
        for (const path of rule.http.paths) {
          const [svc, port] = expected[ing.metadata.name];
          expect(path.backend.service).toEqual({ name: svc, port: { name: port } });
          expect(servicePorts(find(m, 'Service', svc)).map((p) => p.name)).toContain(port);
        }
      }
    }
  });

  it('lets NetworkPolicies open only ports that the selected pods have', () => {
    const policies = ofKind(m, 'NetworkPolicy');
    expect(policies).toHaveLength(3);
    for (const np of policies) {
      const spec = np.spec as {
        podSelector: { matchLabels: Record<string, string> };
        ingress: { ports: { port: string }[]; from?: unknown[] }[];
      };
      const [deployment] = ofKind(m, 'Deployment').filter((d) =>
        matches(spec.podSelector.matchLabels, podLabels(d)),
      );
      const named = podSpec(deployment).containers[0].ports?.map((p) => p.name);
      for (const rule of spec.ingress) {
        for (const p of rule.ports) expect(named).toContain(p.port);
      }
      // metricsFrom restricts the ops port to the monitoring namespace.
      const opsRule = spec.ingress.find((r) => r.ports.some((p) => p.port === 'ops'));
      expect(opsRule?.from).toHaveLength(1);
    }
  });

  it('scrapes the ops Service of every role with one ServiceMonitor', () => {
    const sm = find(m, 'ServiceMonitor', FULLNAME);
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    const spec = sm.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    };
    expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'ops', path: '/metrics' })]);
    const scraped = ofKind(m, 'Service').filter((s) =>
      matches(spec.selector.matchLabels, s.metadata.labels ?? {}),
    );
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual(
      ROLES.map((r) => `${roleName(r)}-ops`).sort(),
    );
  });

  it('makes the gateway Service a LoadBalancer restricted to the given ranges', () => {
    const spec = find(m, 'Service', roleName('gateway')).spec as {
      type: string;
      externalTrafficPolicy: string;
      loadBalancerSourceRanges: string[];
    };
    expect(spec).toMatchObject({
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      loadBalancerSourceRanges: ['10.0.0.0/8'],
    });
    // The admin API stays internal.
    expect((find(m, 'Service', roleName('admin')).spec as { type: string }).type).toBe('ClusterIP');
  });
});
