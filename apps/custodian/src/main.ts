#!/usr/bin/env node
/**
 * `custodian` — one build, several roles (Tempo/Loki's `-target`), plus operator commands.
 *
 *   custodian start [--target=gateway,worker,admin|all]   run roles (env CUSTODIAN_TARGET)
 *   custodian config                                       print every setting and its default
 *   custodian tenant create --slug S [--name N]            create a tenant
 *   custodian apikey create --tenant S [--name N] [--signals traces,logs,metrics] [--expires-days D]
 *   custodian demo [--key-file F]                          ensure the demo tenant and a key
 *   custodian bootstrap --email E [--password-file F]      the first platform admin (database)
 *   custodian login / whoami / tenants / keys / audit      through the admin GraphQL API
 *   custodian policies / sinks / dead-letters              a tenant's resources, through the API
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, settingsReference } from '@custodian/config';
import { startProcess } from './start';
import { runAdminCommand } from './commands';
import { API_USAGE, runApiCommand } from './api-commands';
import { runBootstrap } from './bootstrap';
import { RESOURCE_USAGE, runResourceCommand } from './resource-commands';

const USAGE = `usage:
  custodian start [--target=<role>[,<role>...]]   roles: gateway, worker, admin, all
  custodian config
  custodian tenant create --slug <slug> [--name <name>]
  custodian apikey create --tenant <slug> [--name <name>] [--signals traces,logs,metrics] [--expires-days <n>]
  custodian demo [--key-file <path>]
  custodian bootstrap --email <email> [--password-file <path>]
${API_USAGE}
${RESOURCE_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: { target: { type: 'string' } },
        strict: true,
      });
      const overrides = values.target ? { CUSTODIAN_TARGET: values.target } : {};
      const config = loadConfig(process.env, overrides);
      const running = await startProcess(config);
      await running.stopped;
      return 0;
    }
    case 'config':
      process.stdout.write(settingsReference());
      return 0;
    case 'tenant':
    case 'apikey':
    case 'demo':
      return runAdminCommand(command, rest, loadConfig(process.env));
    case 'bootstrap':
      return runBootstrap(rest, loadConfig(process.env));
    case 'login':
    case 'whoami':
    case 'tenants':
    case 'keys':
    case 'audit':
      return runApiCommand(command, rest);
    case 'policies':
    case 'sinks':
    case 'dead-letters':
      return runResourceCommand(command, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`custodian: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    process.stderr.write(`custodian: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
