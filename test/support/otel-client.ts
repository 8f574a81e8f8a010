import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './custodian-process';

const run = promisify(execFile);

export interface SendResult {
  code: number;
  error?: string;
  spans: { traceId: string; spanId: string }[];
}

/** Sends agent runs through an official OTel exporter in a separate process (see otel-send.ts). */
export async function sendWithOtelExporter(
  protocol: 'http-proto' | 'http-json' | 'grpc',
  endpoint: string,
  key: string | undefined,
  runs: number,
  opts: { service?: string; failTool?: boolean } = {},
): Promise<SendResult> {
  const { stdout } = await run(
    process.execPath,
    [
      '--require',
      join(REPO_ROOT, 'bench', 'register.js'),
      join(__dirname, 'otel-send.ts'),
      protocol,
      endpoint,
      key ?? '-',
      String(runs),
      opts.service ?? 'support-agent',
      opts.failTool ? 'fail' : '',
    ],
    { cwd: REPO_ROOT, timeout: 30000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as SendResult;
}
