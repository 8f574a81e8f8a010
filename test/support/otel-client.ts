import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './custodian-process';

const run = promisify(execFile);

export interface SendResult<T = { traceId: string; spanId: string }> {
  code: number;
  error?: string;
  sent: T[];
}

/** Sends telemetry through an official OTel exporter in a separate process (see otel-send.ts). */
export async function sendWithOtelExporter<T = { traceId: string; spanId: string }>(
  protocol: 'http-proto' | 'http-json' | 'grpc',
  endpoint: string,
  key: string | undefined,
  count: number,
  opts: { service?: string; failTool?: boolean; signal?: 'traces' | 'logs' | 'metrics' } = {},
): Promise<SendResult<T>> {
  const { stdout } = await run(
    process.execPath,
    [
      '--require',
      join(REPO_ROOT, 'bench', 'register.js'),
      join(__dirname, 'otel-send.ts'),
      opts.signal ?? 'traces',
      protocol,
      endpoint,
      key ?? '-',
      String(count),
      opts.service ?? 'support-agent',
      opts.failTool ? 'fail' : '',
    ],
    { cwd: REPO_ROOT, timeout: 30000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as SendResult<T>;
}
