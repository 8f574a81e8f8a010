import { Gauge, type Registry } from 'prom-client';

/** A named dependency probe: resolves when the dependency answers, rejects otherwise. */
export type DependencyCheck = () => Promise<void>;

export interface CheckResult {
  role: string;
  dependency: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'starting' | 'draining';
  checks: CheckResult[];
}

export type Phase = 'starting' | 'running' | 'draining';

/**
 * Readiness of the process = every dependency of every role it runs answers, and it is neither
 * still starting nor draining for shutdown. A dependency shared by several roles (PostgreSQL in
 * `all`) is probed once per request and reported under each role that needs it.
 */
export class Readiness {
  private readonly checks = new Map<string, DependencyCheck>();
  private readonly needs: { role: string; dependency: string }[] = [];
  private phase: Phase = 'starting';
  private readonly upGauge: Gauge<'role' | 'dependency'>;

  constructor(
    private readonly timeoutMs: number,
    registry: Registry,
  ) {
    this.upGauge = new Gauge({
      name: 'custodian_dependency_up',
      help: '1 when the dependency answered the last readiness probe.',
      labelNames: ['role', 'dependency'],
      registers: [registry],
    });
  }

  /** Declares that `role` needs `dependency`; the first registration of a name sets its probe. */
  require(role: string, dependency: string, check: DependencyCheck): void {
    if (!this.checks.has(dependency)) this.checks.set(dependency, check);
    if (!this.needs.some((n) => n.role === role && n.dependency === dependency)) {
      this.needs.push({ role, dependency });
    }
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
  }

  getPhase(): Phase {
    return this.phase;
  }

  async report(): Promise<ReadinessReport> {
    const results = new Map<string, { ok: boolean; latencyMs: number; error?: string }>();
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const started = performance.now();
        try {
          await withTimeout(
            check(),
            this.timeoutMs,
            `${name} did not answer in ${this.timeoutMs} ms`,
          );
          results.set(name, { ok: true, latencyMs: ms(started) });
        } catch (err) {
          results.set(name, { ok: false, latencyMs: ms(started), error: describe(err) });
        }
      }),
    );
    const checks = this.needs.map(({ role, dependency }) => {
      const r = results.get(dependency)!;
      this.upGauge.set({ role, dependency }, r.ok ? 1 : 0);
      return { role, dependency, ...r };
    });
    const allOk = checks.every((c) => c.ok);
    const status = this.phase === 'running' ? (allOk ? 'ready' : 'not_ready') : this.phase;
    return { status, checks };
  }
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
