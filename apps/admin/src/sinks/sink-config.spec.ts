import { mergeSecret, secretKeyNames, validateSinkSettings } from './sink-config';

const T = '11111111-2222-4333-8444-555555555555';
const paths = (p: { path: string }[]) => p.map((x) => x.path);

describe('validateSinkSettings', () => {
  it('accepts the settings each exporter takes', () => {
    expect(
      validateSinkSettings(
        'otlphttp',
        {
          endpoint: 'https://tempo.example:4318',
          paths: { traces: '/otlp/v1/traces' },
          headers: { 'X-Scope-OrgID': 'acme' },
          encoding: 'json',
          compression: 'gzip',
          timeoutMs: 5000,
          signals: ['traces'],
        },
        { headers: { authorization: 'Bearer x' }, tls: { key: '-----BEGIN KEY-----' } },
        T,
      ),
    ).toEqual([]);
    expect(
      validateSinkSettings(
        'otlpgrpc',
        { endpoint: 'collector:4317', insecure: true },
        undefined,
        T,
      ),
    ).toEqual([]);
    expect(
      validateSinkSettings('zipkin', { endpoint: 'http://zipkin:9411' }, undefined, T),
    ).toEqual([]);
    expect(validateSinkSettings('kafka', { topic: `tenant.${T}.runs` }, undefined, T)).toEqual([]);
    expect(validateSinkSettings('store', {}, undefined, T)).toEqual([]);
  });

  it('reports every problem with its path', () => {
    const problems = validateSinkSettings(
      'otlpgrpc',
      { endpoint: 'not a host', compression: 'zstd', signals: [], headers: { 'x-api-key': 'k' } },
      { headers: { 'bad header': 1 }, endpoint: 'x' },
      T,
    );
    expect(paths(problems)).toEqual([
      'secret.endpoint',
      'secret.headers.bad header',
      'secret.headers.bad header',
      'config.endpoint',
      'config.headers.x-api-key',
      'config.compression',
      'config.signals',
    ]);
    expect(problems.find((p) => p.path === 'config.headers.x-api-key')!.message).toContain(
      'secret.headers',
    );
  });

  it('refuses URLs with credentials and private keys outside the secret', () => {
    const problems = validateSinkSettings(
      'zipkin',
      { endpoint: 'http://user:pw@zipkin:9411', tls: { key: '-----BEGIN KEY-----' } },
      undefined,
      T,
    );
    expect(paths(problems)).toEqual(['config.endpoint', 'config.tls.key']);
    expect(problems[1].message).toContain('secret.tls.key');
  });

  it('store takes no settings; kafka topics carry the tenant prefix', () => {
    expect(paths(validateSinkSettings('store', { endpoint: 'x' }, undefined, T))).toEqual([
      'config.endpoint',
    ]);
    expect(paths(validateSinkSettings('kafka', { topic: 'other' }, undefined, T))).toEqual([
      'config.topic',
    ]);
  });
});

describe('secrets', () => {
  it('lists names, never values', () => {
    expect(secretKeyNames({ headers: { b: 'x', a: 'y' }, tls: { key: 'z' } })).toEqual([
      'headers.a',
      'headers.b',
      'tls.key',
    ]);
  });

  it('merges patches key by key; null removes; nothing left is undefined', () => {
    expect(mergeSecret({ headers: { a: '1', b: '2' } }, { headers: { b: null, c: '3' } })).toEqual({
      headers: { a: '1', c: '3' },
    });
    expect(mergeSecret({ headers: { a: '1' } }, { headers: { a: null } })).toBeUndefined();
    expect(mergeSecret(undefined, { headers: { a: '1' } })).toEqual({ headers: { a: '1' } });
  });
});
