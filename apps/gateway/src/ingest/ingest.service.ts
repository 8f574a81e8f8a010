/**
 * One ingest request, whatever the protocol: scan the OTLP protobuf (without decoding it to
 * objects), reject what breaks the tenant's item limits (partial success), take the items from
 * the tenant's rate bucket, produce one record per partition, and answer only once Kafka has
 * every record. Each discarded item is counted with its tenant and reason.
 */
import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import {
  ProduceFailedError,
  ProducerOverloadedError,
  type OtlpProducer,
  type Signal,
} from '@custodian/bus';
import type { AuthenticatedTenant } from '../auth/api-key-authenticator';
import type { RateLimiter } from '../limits/rate-limiter';
import type { TenantLimits } from '../limits/tenant-limits';
import { IngestError } from './ingest-error';
import type { OtlpSplitter } from './splitter';

export interface IngestOutcome {
  accepted: number;
  rejected: number;
  /** For partial success: why items were rejected. Empty when all were accepted. */
  message: string;
}

export interface IngestMetrics {
  accepted: Counter<'tenant' | 'signal'>;
  discarded: Counter<'tenant' | 'signal' | 'reason'>;
  produceSeconds: Histogram<'signal'>;
}

/** Partition count of a signal's topic, as Kafka currently reports it. */
export type PartitionCount = (signal: Signal) => Promise<number>;

const ITEM: Record<Signal, string> = {
  traces: 'spans',
  logs: 'log records',
  metrics: 'data points',
};

export class IngestService {
  constructor(
    private readonly splitter: OtlpSplitter,
    private readonly producer: OtlpProducer,
    private readonly limiter: RateLimiter,
    private readonly limits: TenantLimits,
    private readonly partitions: PartitionCount,
    private readonly metrics: IngestMetrics,
    private readonly logger: Logger,
  ) {}

  async ingest(
    tenant: AuthenticatedTenant,
    signal: Signal,
    protobuf: Uint8Array,
    receivedAt: number,
  ): Promise<IngestOutcome> {
    let partitions: number;
    try {
      partitions = await this.partitions(signal);
    } catch (err) {
      this.logger.warn({ err, signal }, 'kafka topic metadata unavailable');
      throw new IngestError('unavailable', 'Kafka is unavailable; retry later', 2000);
    }
    const split = this.splitter.split(signal, protobuf, {
      partitions,
      tenantId: tenant.tenantId,
      maxAttributes: this.limits.maxAttributes(tenant.limits),
      maxAttributeValueBytes: this.limits.maxAttributeValueBytes(tenant.limits),
    });
    for (const [reason, n] of Object.entries(split.rejectReasons)) {
      this.metrics.discarded.inc({ tenant: tenant.tenantId, signal, reason }, n);
    }
    const message =
      split.rejected > 0
        ? `${split.rejected} ${ITEM[signal]} rejected: ${Object.entries(split.rejectReasons)
            .map(([reason, n]) => `${n} ${reason}`)
            .join(', ')}`
        : '';
    if (split.accepted === 0) return { accepted: 0, rejected: split.rejected, message };

    const { rate, burst } = this.limits.ingestRate(tenant.limits, signal);
    const decision = await this.limiter.take(
      `${tenant.tenantId}:${signal}`,
      split.accepted,
      rate,
      burst,
    );
    if (!decision.allowed) {
      this.metrics.discarded.inc(
        { tenant: tenant.tenantId, signal, reason: 'rate_limited' },
        split.accepted,
      );
      throw new IngestError(
        'rate_limited',
        `tenant over its ${signal} rate of ${rate} ${ITEM[signal]}/s (burst ${burst}); retry later`,
        Math.max(decision.retryAfterMs, 100),
      );
    }

    const stop = this.metrics.produceSeconds.startTimer({ signal });
    try {
      await this.producer.produce({
        tenantId: tenant.tenantId,
        signal,
        receivedAt,
        records: split.parts,
      });
    } catch (err) {
      this.metrics.discarded.inc(
        { tenant: tenant.tenantId, signal, reason: 'kafka_unavailable' },
        split.accepted,
      );
      if (err instanceof ProducerOverloadedError || err instanceof ProduceFailedError) {
        throw new IngestError('unavailable', err.message, 2000);
      }
      this.logger.error({ err }, 'unexpected produce error');
      throw new IngestError('unavailable', 'ingest temporarily unavailable', 2000);
    } finally {
      stop();
    }
    this.metrics.accepted.inc({ tenant: tenant.tenantId, signal }, split.accepted);
    return { accepted: split.accepted, rejected: split.rejected, message };
  }
}
