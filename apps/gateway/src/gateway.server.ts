import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import { KafkaAdmin, OtlpProducer, TOPICS, createKafka } from '@custodian/bus';
import { ApiKeyRepository } from '@custodian/db';
import {
  applyHeapGrowing,
  CONFIG,
  Counter,
  Gauge,
  Histogram,
  LOGGER,
  METRICS,
  type Logger,
  type Registry,
} from '@custodian/ops';
import { RedisConnection } from '@custodian/redis';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator';
import { IngestService } from './ingest/ingest.service';
import { createJsonConverter, createOtlpSplitter } from './ingest/otlp-codecs';
import { RateLimiter } from './limits/rate-limiter';
import { TenantLimits } from './limits/tenant-limits';
import { OtlpGrpcReceiver } from './receivers/otlp-grpc.receiver';
import { OtlpHttpReceiver } from './receivers/otlp-http.receiver';

/**
 * The gateway's servers and their shared parts. Start: receivers listen once the module is up.
 * Stop (SIGTERM): receivers stop accepting and answer what they hold — each answer still waits
 * for Kafka's acknowledgement — and only then is the producer disconnected.
 */
@Injectable()
export class GatewayServer
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly producer: OtlpProducer;
  private readonly http: OtlpHttpReceiver;
  private readonly zipkin: OtlpHttpReceiver;
  private readonly grpc: OtlpGrpcReceiver;
  private readonly log: Logger;
  readonly ports: { otlpHttp?: number; otlpGrpc?: number; zipkin?: number } = {};

  constructor(
    @Inject(CONFIG) private readonly config: CustodianConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
    kafkaAdmin: KafkaAdmin,
    apiKeys: ApiKeyRepository,
    redis: RedisConnection,
  ) {
    const log = logger.child({ component: 'gateway' });
    // ~24 MB live, ~60 MB/s of requests: V8's cautious growth for small heaps meant a
    // mark-compact every ~75 ms (libs/ops/src/heap.ts).
    applyHeapGrowing();
    const fallbacks = new Counter({
      name: 'custodian_gateway_ratelimit_fallback_total',
      help: 'Rate-limit decisions taken from the local bucket because Redis did not answer.',
      labelNames: ['role'],
      registers: [registry],
    });
    const requests = new Counter({
      name: 'custodian_gateway_requests_total',
      help: 'Ingest requests by protocol, signal and response code (HTTP status or gRPC code).',
      labelNames: ['protocol', 'signal', 'code'],
      registers: [registry],
    });
    const requestSeconds = new Histogram({
      name: 'custodian_gateway_request_seconds',
      help: 'Ingest request latency, from receipt to the answer, by protocol and signal.',
      labelNames: ['protocol', 'signal'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const metrics = {
      accepted: new Counter({
        name: 'custodian_gateway_accepted_items_total',
        help: 'Spans, log records and data points acknowledged to clients after Kafka had them.',
        labelNames: ['tenant', 'signal'],
        registers: [registry],
      }),
      discarded: new Counter({
        name: 'custodian_gateway_discarded_items_total',
        help: 'Items not accepted, by tenant, signal and reason.',
        labelNames: ['tenant', 'signal', 'reason'],
        registers: [registry],
      }),
      produceSeconds: new Histogram({
        name: 'custodian_gateway_produce_seconds',
        help: 'Time from produce to Kafka acknowledging every record of a request.',
        labelNames: ['signal'],
        buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    };
    const kafka = createKafka(kafkaAdmin.settings, logger, 'gateway');
    this.producer = new OtlpProducer(
      kafka,
      {
        gatewayId: config.instanceId,
        compression: config.kafkaCompression,
        timeoutMs: config.produceTimeoutMs,
        maxInflightBytes: config.maxInflightBytes,
      },
      log,
    );
    const producer = this.producer;
    new Gauge({
      name: 'custodian_gateway_inflight_bytes',
      help: 'Bytes of requests waiting for Kafka acknowledgement (bounded by CUSTODIAN_MAX_INFLIGHT_BYTES).',
      registers: [registry],
      collect() {
        this.set(producer.bytesInFlight);
      },
    });
    const limits = new TenantLimits(config);
    const limiter = new RateLimiter(redis.client, () => fallbacks.inc({ role: 'gateway' }));
    const auth = new ApiKeyAuthenticator(apiKeys, config.apiKeyPepper, config.apiKeyCacheTtlMs);
    const ingest = new IngestService(
      createOtlpSplitter(),
      this.producer,
      limiter,
      limits,
      (signal) => kafkaAdmin.partitionCount(TOPICS[signal]),
      metrics,
      log,
    );
    const json = createJsonConverter();
    const receiverDeps = { auth, ingest, limits, json, logger: log, requests, requestSeconds };
    this.http = new OtlpHttpReceiver('otlp_http', receiverDeps);
    this.zipkin = new OtlpHttpReceiver('zipkin', receiverDeps);
    this.grpc = new OtlpGrpcReceiver({
      auth,
      ingest,
      logger: log,
      requests,
      requestSeconds,
      maxMessageBytes: config.grpcMaxMessageBytes,
    });
    this.log = log;
  }

  async onApplicationBootstrap(): Promise<void> {
    void this.producer
      .connect()
      .catch((err: unknown) =>
        this.log.warn({ err }, 'kafka producer not connected yet; requests will retry it'),
      );
    const host = this.config.bindHost;
    this.ports.otlpGrpc = await this.grpc.listen(this.config.otlpGrpcPort, host);
    this.ports.otlpHttp = await this.http.listen(this.config.otlpHttpPort, host);
    this.ports.zipkin = await this.zipkin.listen(this.config.zipkinPort, host);
    this.log.info({ ...this.ports }, 'gateway receivers listening');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.grpc.close(), this.http.close(), this.zipkin.close()]);
    this.log.info('gateway receivers closed');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}
