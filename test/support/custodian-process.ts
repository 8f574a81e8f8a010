import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');
/**
 * The built CLI. CUSTODIAN_TEST_DIST points the suites at another build directory (inside the
 * repository, so node_modules resolve), for engineers working on separate builds side by side.
 */
export const CLI = join(
  process.env.CUSTODIAN_TEST_DIST
    ? join(REPO_ROOT, process.env.CUSTODIAN_TEST_DIST)
    : join(REPO_ROOT, 'dist'),
  'apps',
  'custodian',
  'src',
  'main.js',
);

export interface LogLine {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

/**
 * The built `custodian` CLI as a child process, its JSON log lines collected. E2E tests run the
 * real build (npm run build), exactly as an operator would.
 */
export class CustodianProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private closed = false;
  readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string | undefined>) {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first`);
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, CUSTODIAN_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 'raw', msg: line });
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // 'close': exited and its stdout and stderr read to the end
    this.child.once('close', () => (this.closed = true));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Resolves with the first log line matching `msg`. Fails as soon as the process has exited
   * without it (once its output is all read), or after `timeoutMs`, with the exit status, the
   * last log lines and stderr as they are then: a start that failed says why.
   */
  async waitForLog(msg: string, timeoutMs = 30000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => l.msg === msg);
      if (line) return line;
      if (this.closed || Date.now() > deadline) {
        const why = this.closed
          ? `exited (code ${this.child.exitCode}, signal ${this.child.signalCode})`
          : `timed out after ${timeoutMs} ms`;
        throw new Error(
          `${why} waiting for log line "${msg}"; last log lines:\n` +
            this.logs
              .slice(-8)
              .map((l) => JSON.stringify(l))
              .join('\n') +
            `\nstderr: ${this.stderr.slice(-1000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything the process logged, as text (for looking for an error in it). */
  logText(): string {
    return this.logs.map((l) => JSON.stringify(l)).join('\n') + this.stderr;
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit!;
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited();
  }
}

export async function httpJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}
