/**
 * Runs the real `helm` binary (no cluster needed): `helm lint --strict` and `helm template`,
 * parsing the rendered manifests with the `yaml` package. helm is the pinned build that
 * deploy/local/install-tools.sh puts in .stack/bin (or $HELM); without it the suites fail with
 * a message saying how to install it, rather than skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'helm', 'custodian');
export const PRODUCTION_VALUES = join(CHART, 'ci', 'production-values.yaml');
/** The oldest Kubernetes the chart supports (README); helm would otherwise assume v1.20. */
export const KUBE_VERSION = '1.30.0';
export const RELEASE = 'cus';
export const NAMESPACE = 'observability';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // Rendered Kubernetes objects are checked field by field; their shapes are Kubernetes'.
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export function helmBinary(): string {
  const candidate = process.env.HELM ?? join(ROOT, '.stack', 'bin', 'helm');
  if (!existsSync(candidate)) {
    throw new Error(
      `helm not found at ${candidate}. Run deploy/local/install-tools.sh (installs the pinned ` +
        'helm into .stack/bin), or set HELM to a helm v3 binary.',
    );
  }
  return candidate;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `--set` / `--set-string` / `-f` arguments for one render. */
export type ValueArgs = string[];

export function templateArgs(values: ValueArgs = []): string[] {
  return [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    ...values,
  ];
}

/** Renders the chart; throws with helm's message when rendering fails. */
export function render(values: ValueArgs = []): Manifest[] {
  const r = helm(templateArgs(values));
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML is invalid: ${d.errors[0].message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** Renders the chart expecting a failure; returns helm's error output. */
export function renderError(values: ValueArgs): string {
  const r = helm(templateArgs(values));
  if (r.status === 0) throw new Error(`helm template succeeded with ${values.join(' ')}`);
  return r.stderr;
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) {
    const have = manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(', ');
    throw new Error(`${kind}/${name} not rendered; have ${have}`);
  }
  return m;
}

export function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

// ---- typed views of the parts of pod specs the suites check ----

export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number; protocol?: string }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: {
    requests?: Record<string, string | number>;
    limits?: Record<string, string | number>;
  };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; emptyDir?: Record<string, unknown> }[];
  restartPolicy?: string;
}

/** The pod template of a Deployment or Job. */
export function podSpec(m: Manifest): PodSpec {
  const template = (m.spec as { template?: { spec?: PodSpec } } | undefined)?.template;
  if (!template?.spec) throw new Error(`${m.kind}/${m.metadata.name} has no pod template`);
  return template.spec;
}

export function podAnnotations(m: Manifest): Record<string, string> {
  const t = (m.spec as { template?: { metadata?: { annotations?: Record<string, string> } } })
    .template;
  return t?.metadata?.annotations ?? {};
}

export function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

export const ROLES = ['gateway', 'worker', 'admin'] as const;
export type ChartRole = (typeof ROLES)[number];
export const roleName = (role: string): string => `${RELEASE}-custodian-${role}`;
export const FULLNAME = `${RELEASE}-custodian`;
