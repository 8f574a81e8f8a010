import { OtlpGrpcExporter } from './otlp-grpc.exporter';
import { OtlpHttpExporter } from './otlp-http.exporter';
import { ZipkinExporter } from './zipkin.exporter';
import { defaultSinkExporterFactory, mergeSinkConfig } from './factory';

describe('mergeSinkConfig', () => {
  it('merges secret headers beside the plain ones, the secret winning a clash', () => {
    expect(
      mergeSinkConfig(
        { endpoint: 'https://x', headers: { 'x-scope-orgid': 'acme', 'x-api-key': 'placeholder' } },
        { headers: { 'x-api-key': 'real' } },
      ),
    ).toEqual({
      endpoint: 'https://x',
      headers: { 'x-scope-orgid': 'acme', 'x-api-key': 'real' },
    });
  });

  it('merges TLS material and keeps the plain config when there is no secret', () => {
    expect(
      mergeSinkConfig({ endpoint: 'e', tls: { ca: 'CA' } }, { tls: { key: 'K', cert: 'C' } }),
    ).toEqual({ endpoint: 'e', tls: { ca: 'CA', key: 'K', cert: 'C' } });
    expect(mergeSinkConfig({ endpoint: 'e' }, undefined)).toEqual({ endpoint: 'e' });
    expect(mergeSinkConfig(null, { headers: { a: 'b' } })).toEqual({ headers: { a: 'b' } });
  });

  it('does not modify its inputs', () => {
    const plain = { headers: { a: '1' } };
    const secret = { headers: { b: '2' } };
    mergeSinkConfig(plain, secret);
    expect(plain).toEqual({ headers: { a: '1' } });
    expect(secret).toEqual({ headers: { b: '2' } });
  });
});

describe('defaultSinkExporterFactory', () => {
  it('maps otlphttp, otlpgrpc and zipkin to their exporters and has none for kafka and store', async () => {
    const http = defaultSinkExporterFactory('otlphttp', { endpoint: 'http://127.0.0.1:1' });
    const grpc = defaultSinkExporterFactory('otlpgrpc', {
      endpoint: 'http://127.0.0.1:1',
      insecure: true,
    });
    const zipkin = defaultSinkExporterFactory('zipkin', { endpoint: 'http://127.0.0.1:1' });
    expect(http).toBeInstanceOf(OtlpHttpExporter);
    expect(grpc).toBeInstanceOf(OtlpGrpcExporter);
    expect(zipkin).toBeInstanceOf(ZipkinExporter);
    expect(defaultSinkExporterFactory('kafka', { topic: 't' })).toBeUndefined();
    expect(defaultSinkExporterFactory('store', {})).toBeUndefined();
    await Promise.all([http!.close(), grpc!.close(), zipkin!.close()]);
  });

  it('throws on a config that cannot build an exporter (TenantSinks leaves such a sink out)', () => {
    expect(() => defaultSinkExporterFactory('otlphttp', { endpoint: 'not a url' })).toThrow();
  });
});
