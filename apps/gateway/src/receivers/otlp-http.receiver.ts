/**
 * OTLP/HTTP (spec: "OTLP/HTTP") on /v1/traces, /v1/logs, /v1/metrics — protobuf or JSON bodies,
 * gzip or not, the response in the request's content type — and Zipkin v2 JSON on
 * /api/v2/spans. Served by bare node:http: no framework on the hot path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { Signal } from '@custodian/bus';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import { IngestError, GRPC_CODE, HTTP_STATUS } from '../ingest/ingest-error';
import type { IngestService } from '../ingest/ingest.service';
import type { TenantLimits } from '../limits/tenant-limits';
import { encodeExportResponse } from '@custodian/otlp';
import { encodeRpcStatus, rpcStatusJson } from '../ingest/wire';
import { decodeContent, readBody } from './body';

/** JSON → protobuf conversions the receivers need (libs/otlp codecs). */
export interface JsonConverter {
  otlpJsonToProtobuf(signal: Signal, body: Uint8Array): Uint8Array;
  zipkinJsonToProtobuf(body: Uint8Array): Uint8Array;
}

type Format = 'protobuf' | 'json';
type Route = { kind: 'otlp'; signal: Signal } | { kind: 'zipkin' };

const OTLP_ROUTES: Record<string, Route> = {
  '/v1/traces': { kind: 'otlp', signal: 'traces' },
  '/v1/logs': { kind: 'otlp', signal: 'logs' },
  '/v1/metrics': { kind: 'otlp', signal: 'metrics' },
};
const ZIPKIN_ROUTES: Record<string, Route> = {
  '/api/v2/spans': { kind: 'zipkin' },
};

const REJECTED_JSON_FIELD: Record<Signal, string> = {
  traces: 'rejectedSpans',
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
};

export interface HttpReceiverDeps {
  auth: ApiKeyAuthenticator;
  ingest: IngestService;
  limits: TenantLimits;
  json: JsonConverter;
  logger: Logger;
  requests: Counter<'protocol' | 'signal' | 'code'>;
  requestSeconds: Histogram<'protocol' | 'signal'>;
}

export class OtlpHttpReceiver {
  private server?: Server;

  constructor(
    private readonly protocol: 'otlp_http' | 'zipkin',
    private readonly deps: HttpReceiverDeps,
  ) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.deps.logger.error({ err }, 'unhandled receiver error');
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.requestTimeout = 60_000;
    server.headersTimeout = 15_000;
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting connections and waits for requests in progress to be answered. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const path = (req.url ?? '/').split('?')[0];
    const routes = this.protocol === 'zipkin' ? ZIPKIN_ROUTES : OTLP_ROUTES;
    const route = routes[path];
    const signal: Signal = route?.kind === 'otlp' ? route.signal : 'traces';
    let format: Format = 'json';
    try {
      if (!route) {
        throw new IngestError(
          'not_found',
          `no such endpoint ${path}; use ${Object.keys(routes).join(', ')}`,
        );
      }
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new IngestError('method_not_allowed', `use POST for ${path}`);
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (route.kind === 'otlp') {
        if (contentType === 'application/x-protobuf') format = 'protobuf';
        else if (contentType === 'application/json') format = 'json';
        else {
          throw new IngestError(
            'unsupported_media_type',
            `unsupported Content-Type "${contentType}"; use application/x-protobuf or application/json`,
          );
        }
      } else if (contentType !== '' && contentType !== 'application/json') {
        throw new IngestError(
          'unsupported_media_type',
          `unsupported Content-Type "${contentType}"; Zipkin v2 spans are application/json`,
        );
      }

      const key = ApiKeyAuthenticator.presentedKey(
        header(req, 'authorization'),
        header(req, 'x-custodian-api-key'),
      );
      const tenant = await this.deps.auth.authenticate(key, signal);
      const max = this.deps.limits.httpMaxBodyBytes(tenant.limits);
      const raw = await readBody(req, max);
      const body = await decodeContent(raw, header(req, 'content-encoding'), max);

      let protobuf: Uint8Array;
      if (route.kind === 'zipkin') protobuf = this.deps.json.zipkinJsonToProtobuf(body);
      else if (format === 'json') protobuf = this.deps.json.otlpJsonToProtobuf(signal, body);
      else protobuf = body;

      const outcome = await this.deps.ingest.ingest(tenant, signal, protobuf, receivedAt);
      this.count(signal, 200, receivedAt);
      if (route.kind === 'zipkin') {
        res.writeHead(202, { 'content-length': '0' }).end();
      } else if (format === 'protobuf') {
        const bytes = encodeExportResponse(
          signal,
          outcome.rejected > 0
            ? { rejected: BigInt(outcome.rejected), errorMessage: outcome.message }
            : undefined,
        );
        res.writeHead(200, {
          'content-type': 'application/x-protobuf',
          'content-length': bytes.length,
        });
        res.end(bytes);
      } else {
        const body =
          outcome.rejected > 0
            ? JSON.stringify({
                partialSuccess: {
                  [REJECTED_JSON_FIELD[signal]]: String(outcome.rejected),
                  errorMessage: outcome.message,
                },
              })
            : '{}';
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      }
    } catch (err) {
      this.fail(req, res, signal, format, err, receivedAt);
    }
  }

  private fail(
    req: IncomingMessage,
    res: ServerResponse,
    signal: Signal,
    format: Format,
    err: unknown,
    receivedAt: number,
  ): void {
    const e =
      err instanceof IngestError
        ? err
        : (this.deps.logger.error({ err }, 'ingest failed'),
          new IngestError('internal', 'internal error'));
    const status = HTTP_STATUS[e.kind];
    this.count(signal, status, receivedAt);
    const headers: Record<string, string | number> = {};
    if (e.retryable && e.retryAfterMs !== undefined) {
      headers['retry-after'] = Math.max(1, Math.ceil(e.retryAfterMs / 1000));
    }
    let body: Uint8Array | string;
    if (format === 'protobuf') {
      headers['content-type'] = 'application/x-protobuf';
      body = encodeRpcStatus(
        GRPC_CODE[e.kind],
        e.message,
        e.retryable ? e.retryAfterMs : undefined,
      );
    } else {
      headers['content-type'] = 'application/json';
      body = rpcStatusJson(GRPC_CODE[e.kind], e.message, e.retryable ? e.retryAfterMs : undefined);
    }
    headers['content-length'] = Buffer.byteLength(body);
    // A body we stopped reading part-way cannot be followed by another request on this socket.
    if (!req.complete) headers['connection'] = 'close';
    if (!res.headersSent) res.writeHead(status, headers).end(body);
  }

  private count(signal: Signal, code: number, receivedAt: number): void {
    this.deps.requests.inc({ protocol: this.protocol, signal, code: String(code) });
    this.deps.requestSeconds.observe(
      { protocol: this.protocol, signal },
      (Date.now() - receivedAt) / 1000,
    );
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
