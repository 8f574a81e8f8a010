import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, settingsReference } from './load-config';
import { SETTINGS } from './settings';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives every setting its documented default in development', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.targets).toEqual(['gateway', 'worker', 'admin']);
    expect(config.opsPort).toBe(9464);
    expect(config.otlpGrpcPort).toBe(4317);
    expect(config.otlpHttpPort).toBe(4318);
    expect(config.zipkinPort).toBe(9411);
    expect(config.adminPort).toBe(4000);
    expect(config.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafkaTopicPartitions).toBe(6);
    expect(config.kafkaCreateTopics).toBe(true);
    expect(config.encryptionKey).toHaveLength(32);
  });

  it('parses typed values', () => {
    const config = loadConfig({
      CUSTODIAN_TARGET: 'worker, gateway',
      CUSTODIAN_OPS_PORT: '0',
      KAFKA_BROKERS: 'a:1,b.example:9092,[::1]:9093',
      KAFKA_CREATE_TOPICS: 'off',
      CUSTODIAN_LOG_LEVEL: 'DEBUG',
      CUSTODIAN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    // Roles come back in canonical order, whatever order they were given in.
    expect(config.targets).toEqual(['gateway', 'worker']);
    expect(config.opsPort).toBe(0);
    expect(config.kafkaBrokers).toEqual(['a:1', 'b.example:9092', '[::1]:9093']);
    expect(config.kafkaCreateTopics).toBe(false);
    expect(config.logLevel).toBe('debug');
    expect(config.encryptionKey.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('lets overrides (CLI flags) win over the environment', () => {
    expect(
      loadConfig({ CUSTODIAN_TARGET: 'admin' }, { CUSTODIAN_TARGET: 'gateway' }).targets,
    ).toEqual(['gateway']);
  });

  it('reports every bad value at once, each naming its variable', () => {
    const problems = problemsOf({
      CUSTODIAN_OPS_PORT: 'ninety',
      CUSTODIAN_ADMIN_PORT: '70000',
      CUSTODIAN_TARGET: 'gateway,ingester',
      KAFKA_BROKERS: 'localhost',
      CUSTODIAN_LOG_LEVEL: 'loud',
      KAFKA_CREATE_TOPICS: 'maybe',
      REDIS_URL: 'http://x',
    });
    expect(problems).toHaveLength(7);
    expect(problems).toEqual(
      expect.arrayContaining([
        'CUSTODIAN_OPS_PORT: expected an integer, got "ninety"',
        'CUSTODIAN_ADMIN_PORT: expected 0..65535, got 70000',
        'CUSTODIAN_TARGET: unknown role "ingester"; roles are gateway, worker, admin, all',
        'KAFKA_BROKERS: expected host:port, got "localhost"',
        expect.stringMatching(/^CUSTODIAN_LOG_LEVEL: expected one of fatal, error/),
        'KAFKA_CREATE_TOPICS: expected true or false, got "maybe"',
        'REDIS_URL: expected a redis: or rediss: URL',
      ]),
    );
  });

  it('never echoes a secret value back in an error', () => {
    const problems = problemsOf({ CUSTODIAN_ENCRYPTION_KEY: 'hunter2-is-not-a-key' });
    expect(problems).toEqual([
      'CUSTODIAN_ENCRYPTION_KEY: expected 32 bytes as 64 hex characters or base64',
    ]);
    const pepper = problemsOf({ CUSTODIAN_API_KEY_PEPPER: 'short-secret' });
    expect(pepper.join()).not.toContain('short-secret');
  });

  it('refuses missing and development secrets in production', () => {
    const problems = problemsOf({ CUSTODIAN_ENV: 'production' });
    expect(problems).toEqual([
      'CUSTODIAN_API_KEY_PEPPER: required when CUSTODIAN_ENV=production',
      'CUSTODIAN_ENCRYPTION_KEY: required when CUSTODIAN_ENV=production',
      'CUSTODIAN_ADMIN_JWT_SECRET: required when CUSTODIAN_ENV=production',
    ]);
    const dev = problemsOf({
      CUSTODIAN_ENV: 'production',
      CUSTODIAN_API_KEY_PEPPER: 'custodian-development-pepper-not-for-production',
      CUSTODIAN_ENCRYPTION_KEY: '00'.repeat(32),
      CUSTODIAN_ADMIN_JWT_SECRET: 'custodian-development-admin-jwt-secret-not-for-production',
    });
    expect(dev).toHaveLength(3);
    expect(dev[0]).toMatch(/^CUSTODIAN_API_KEY_PEPPER: the development value is refused/);
    const ok = loadConfig({
      CUSTODIAN_ENV: 'production',
      CUSTODIAN_API_KEY_PEPPER: 'p'.repeat(40),
      CUSTODIAN_ENCRYPTION_KEY: 'ab'.repeat(32),
      CUSTODIAN_ADMIN_JWT_SECRET: 'j'.repeat(40),
    });
    expect(ok.env).toBe('production');
  });

  it('documents every setting', () => {
    const doc = settingsReference();
    for (const s of Object.values(SETTINGS)) expect(doc).toContain(`\`${s.env}\``);
  });
});

describe('docs/configuration.md', () => {
  it('is the current output of `custodian config` (regenerate it when a setting changes)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    expect(doc).toBe(settingsReference());
  });
});
