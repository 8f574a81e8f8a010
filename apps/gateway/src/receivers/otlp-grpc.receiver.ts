/**
 * OTLP/gRPC (spec: "OTLP/gRPC"): the Export methods of TraceService, LogsService and
 * MetricsService. Messages pass through as raw bytes: the gateway scans protobuf, it does not
 * decode it. The transport is GrpcUnaryServer (grpc-unary-server.ts: framing, gzip/deflate,
 * messages over CUSTODIAN_GRPC_MAX_MESSAGE_BYTES refused with RESOURCE_EXHAUSTED, flow control).
 * Retryable failures carry google.rpc.RetryInfo in grpc-status-details-bin, as OTLP asks.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { Signal } from '@custodian/bus';
import { encodeExportResponse } from '@custodian/otlp';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import { GRPC_CODE, IngestError } from '../ingest/ingest-error';
import type { IngestService } from '../ingest/ingest.service';
import { encodeRpcStatus } from '../ingest/wire';
import { GrpcCallError, GrpcUnaryServer, type UnaryHandler } from './grpc-unary-server';

const SERVICES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

const SIGNAL_OF_PATH = new Map<string, Signal>(
  (Object.keys(SERVICES) as Signal[]).map((s) => [`/${SERVICES[s]}/Export`, s]),
);

export interface GrpcReceiverDeps {
  auth: ApiKeyAuthenticator;
  ingest: IngestService;
  logger: Logger;
  requests: Counter<'protocol' | 'signal' | 'code'>;
  requestSeconds: Histogram<'protocol' | 'signal'>;
  maxMessageBytes: number;
}

export class OtlpGrpcReceiver {
  private server?: GrpcUnaryServer;

  constructor(private readonly deps: GrpcReceiverDeps) {}

  async listen(port: number, host: string): Promise<number> {
    const handlers = new Map<string, UnaryHandler>();
    for (const [path, signal] of SIGNAL_OF_PATH) {
      handlers.set(path, (request, headers) => this.export(signal, request, headers));
    }
    const server = new GrpcUnaryServer(handlers, {
      maxMessageBytes: this.deps.maxMessageBytes,
      onRejected: (path, code, message) => {
        // protocol errors and cancellations; the handler's own outcomes are counted in export()
        this.deps.requests.inc({
          protocol: 'otlp_grpc',
          signal: SIGNAL_OF_PATH.get(path) ?? 'unknown',
          code: String(code),
        });
        this.deps.logger.debug({ path, code, message }, 'gRPC call refused or cancelled');
      },
      onSessionError: (err) => this.deps.logger.debug({ err }, 'gRPC connection error'),
    });
    const bound = await server.listen(port, host);
    this.server = server;
    return bound;
  }

  /** Stops taking calls and lets calls in progress finish (forced after `timeoutMs`). */
  async close(timeoutMs = 10_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await server.close(timeoutMs);
  }

  private async export(
    signal: Signal,
    request: Buffer,
    headers: IncomingHttpHeaders,
  ): Promise<Uint8Array> {
    const receivedAt = Date.now();
    const key = ApiKeyAuthenticator.presentedKey(
      first(headers.authorization),
      first(headers['x-custodian-api-key']),
    );
    try {
      const tenant = await this.deps.auth.authenticate(key, signal);
      const outcome = await this.deps.ingest.ingest(tenant, signal, request, receivedAt);
      this.count(signal, 0, receivedAt);
      return encodeExportResponse(
        signal,
        outcome.rejected > 0
          ? { rejected: BigInt(outcome.rejected), errorMessage: outcome.message }
          : undefined,
      );
    } catch (err) {
      const e =
        err instanceof IngestError
          ? err
          : (this.deps.logger.error({ err }, 'ingest failed'),
            new IngestError('internal', 'internal error'));
      const code = GRPC_CODE[e.kind];
      this.count(signal, code, receivedAt);
      throw new GrpcCallError(
        code,
        e.message,
        e.retryable && e.retryAfterMs !== undefined
          ? encodeRpcStatus(code, e.message, e.retryAfterMs)
          : undefined,
      );
    }
  }

  private count(signal: Signal, code: number, receivedAt: number): void {
    this.deps.requests.inc({ protocol: 'otlp_grpc', signal, code: String(code) });
    this.deps.requestSeconds.observe(
      { protocol: 'otlp_grpc', signal },
      (Date.now() - receivedAt) / 1000,
    );
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
