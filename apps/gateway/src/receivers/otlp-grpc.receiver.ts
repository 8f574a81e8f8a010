/**
 * OTLP/gRPC (spec: "OTLP/gRPC"): the Export methods of TraceService, LogsService and
 * MetricsService. Messages pass through as raw bytes (identity serializers): the gateway scans
 * protobuf, it does not decode it. gzip message compression is handled by grpc-js; messages
 * over CUSTODIAN_GRPC_MAX_MESSAGE_BYTES get RESOURCE_EXHAUSTED from grpc-js itself.
 * Retryable failures carry google.rpc.RetryInfo in grpc-status-details-bin, as OTLP asks.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { Signal } from '@custodian/bus';
import { ApiKeyAuthenticator } from '../auth/api-key-authenticator';
import { GRPC_CODE, IngestError } from '../ingest/ingest-error';
import type { IngestService } from '../ingest/ingest.service';
import { encodeExportResponse } from '@custodian/otlp';
import { encodeRpcStatus } from '../ingest/wire';
import { widenFlowControl, windowsFor } from './grpc-flow-control';

const SERVICES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

const identity = (b: Buffer): Buffer => b;

function definition(signal: Signal): ServiceDefinition {
  return {
    Export: {
      path: `/${SERVICES[signal]}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

export interface GrpcReceiverDeps {
  auth: ApiKeyAuthenticator;
  ingest: IngestService;
  logger: Logger;
  requests: Counter<'protocol' | 'signal' | 'code'>;
  requestSeconds: Histogram<'protocol' | 'signal'>;
  maxMessageBytes: number;
}

export class OtlpGrpcReceiver {
  private server?: Server;

  constructor(private readonly deps: GrpcReceiverDeps) {}

  async listen(port: number, host: string): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': this.deps.maxMessageBytes,
      'grpc.max_send_message_length': 1024 * 1024,
      'grpc.keepalive_permit_without_calls': 1,
    });
    for (const signal of Object.keys(SERVICES) as Signal[]) {
      server.addService(definition(signal), {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
          this.export(signal, call, callback);
        },
      });
    }
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    if (!widenFlowControl(server, windowsFor(this.deps.maxMessageBytes))) {
      this.deps.logger.warn(
        'gRPC: HTTP/2 flow-control windows left at 64 KiB (grpc-js internals changed); large exports will be slower',
      );
    }
    this.server = server;
    return bound;
  }

  /** Stops taking calls and lets calls in progress finish (forced after `timeoutMs`). */
  async close(timeoutMs = 10_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private export(
    signal: Signal,
    call: ServerUnaryCall<Buffer, Buffer>,
    callback: sendUnaryData<Buffer>,
  ): void {
    const receivedAt = Date.now();
    const md = call.metadata;
    const key = ApiKeyAuthenticator.presentedKey(
      first(md, 'authorization'),
      first(md, 'x-custodian-api-key'),
    );
    this.deps.auth
      .authenticate(key, signal)
      .then((tenant) => this.deps.ingest.ingest(tenant, signal, call.request, receivedAt))
      .then(
        (outcome) => {
          this.count(signal, GrpcStatus.OK, receivedAt);
          callback(
            null,
            Buffer.from(
              encodeExportResponse(
                signal,
                outcome.rejected > 0
                  ? { rejected: BigInt(outcome.rejected), errorMessage: outcome.message }
                  : undefined,
              ),
            ),
          );
        },
        (err: unknown) => {
          const e =
            err instanceof IngestError
              ? err
              : (this.deps.logger.error({ err }, 'ingest failed'),
                new IngestError('internal', 'internal error'));
          const code = GRPC_CODE[e.kind];
          this.count(signal, code, receivedAt);
          const metadata = new Metadata();
          if (e.retryable && e.retryAfterMs !== undefined) {
            metadata.set(
              'grpc-status-details-bin',
              Buffer.from(encodeRpcStatus(code, e.message, e.retryAfterMs)),
            );
          }
          callback({ code, details: e.message, metadata });
        },
      );
  }

  private count(signal: Signal, code: number, receivedAt: number): void {
    this.deps.requests.inc({ protocol: 'otlp_grpc', signal, code: String(code) });
    this.deps.requestSeconds.observe(
      { protocol: 'otlp_grpc', signal },
      (Date.now() - receivedAt) / 1000,
    );
  }
}

function first(md: Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}
