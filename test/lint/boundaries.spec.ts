/**
 * The dependency rule must be able to fail: pure libs (policy, otlp) may not import Nest, I/O,
 * infrastructure clients or apps, and nothing reaches into a lib past its index. Each case
 * lints a snippet as if it were a file at that path, with the project's real ESLint config.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ESLINT = join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

function lint(filePath: string, code: string): string[] {
  const r = spawnSync(
    process.execPath,
    [ESLINT, '--stdin', '--stdin-filename', filePath, '--format', 'json'],
    { cwd: ROOT, input: code, encoding: 'utf8' },
  );
  if (r.status !== 0 && r.status !== 1) throw new Error(`eslint failed: ${r.stderr}`);
  const [result] = JSON.parse(r.stdout) as { messages: { ruleId: string; message: string }[] }[];
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const restricted = (msgs: string[]) => msgs.filter((m) => m.startsWith('no-restricted-imports'));

describe('dependency boundaries (eslint.config.mjs)', () => {
  it.each([
    [
      'libs/policy/src/x.ts',
      "import { Injectable } from '@nestjs/common';\nexport const a = Injectable;\n",
    ],
    ['libs/otlp/src/x.ts', "import { Module } from '@nestjs/common';\nexport const a = Module;\n"],
    [
      'libs/policy/src/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const a = readFileSync;\n",
    ],
    ['libs/otlp/src/x.ts', "import { request } from 'http';\nexport const a = request;\n"],
    ['libs/policy/src/x.ts', "import { Kafka } from 'kafkajs';\nexport const a = Kafka;\n"],
    [
      'libs/policy/src/x.ts',
      "import { GatewayModule } from '@custodian/gateway';\nexport const a = GatewayModule;\n",
    ],
    [
      'libs/policy/src/x.ts',
      "import { a } from '../../../apps/worker/src/worker.module';\nexport const b = a;\n",
    ],
    [
      'libs/policy/src/x.ts',
      "import { KafkaAdmin } from '@custodian/bus';\nexport const a = KafkaAdmin;\n",
    ],
    [
      'libs/otlp/src/x.ts',
      "import { POLICY_SCHEMA_VERSION } from '@custodian/policy';\nexport const a = POLICY_SCHEMA_VERSION;\n",
    ],
    [
      'libs/bus/src/x.ts',
      "import { AdminModule } from '@custodian/admin';\nexport const a = AdminModule;\n",
    ],
    [
      'apps/admin/src/x.ts',
      "import { loadConfig } from '@custodian/config/load-config';\nexport const a = loadConfig;\n",
    ],
    [
      'apps/admin/src/x.ts',
      "import { loadConfig } from '../../../libs/config/src/load-config';\nexport const a = loadConfig;\n",
    ],
  ])('%s: refuses %p', (path, code) => {
    expect(restricted(lint(path, code))).not.toEqual([]);
  });

  it('refuses global I/O in pure libs', () => {
    expect(lint('libs/otlp/src/x.ts', "export const a = () => fetch('http://x');\n")).toEqual([
      expect.stringMatching(/^no-restricted-globals/),
    ]);
  });

  it.each([
    [
      'libs/policy/src/x.ts',
      "import { OTLP_HTTP_PATHS } from '@custodian/otlp';\nexport const a = OTLP_HTTP_PATHS;\n",
    ],
    [
      'libs/policy/src/x.ts',
      "import { createHash } from 'node:crypto';\nexport const a = createHash;\n",
    ],
    [
      'libs/bus/src/x.ts',
      "import { Injectable } from '@nestjs/common';\nexport const a = Injectable;\n",
    ],
    [
      'apps/admin/src/x.ts',
      "import { loadConfig } from '@custodian/config';\nexport const a = loadConfig;\n",
    ],
  ])('%s: allows %p', (path, code) => {
    expect(lint(path, code)).toEqual([]);
  });
});
