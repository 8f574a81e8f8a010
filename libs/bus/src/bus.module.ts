import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { CONFIG, LOGGER, withTimeout, type Logger } from '@custodian/ops';
import type { CustodianConfig } from '@custodian/config';
import { createKafka, ensureTopics, probeKafka, type KafkaSettings } from './kafka';

/**
 * The process's Kafka admin connection, shared by every role that needs Kafka. It creates the
 * otlp.* topics when configured to and backs the `kafka` readiness probe. Boot does not wait
 * for Kafka: a process started before its broker reports not-ready until the broker answers.
 */
@Injectable()
export class KafkaAdmin implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly settings: KafkaSettings;
  private readonly admin: Admin;
  private connected?: Promise<void>;
  private topicsEnsured = false;
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();
  /** The metadata lookup in flight per topic, shared by every caller. */
  private readonly partitionFetches = new Map<string, Promise<number>>();

  constructor(
    @Inject(CONFIG) private readonly config: CustodianConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = {
      brokers: config.kafkaBrokers,
      clientId: config.kafkaClientId,
      topicPartitions: config.kafkaTopicPartitions,
      replicationFactor: config.kafkaReplicationFactor,
      maxMessageBytes: config.kafkaMaxMessageBytes,
    };
    this.admin = createKafka(this.settings, logger, 'admin').admin();
  }

  onApplicationBootstrap(): void {
    void this.probe().catch((err: unknown) =>
      this.logger.warn({ err }, 'kafka not reachable yet; readiness will say so'),
    );
  }

  /** Connects on first use and after a failure, creates topics once, then checks them. */
  async probe(): Promise<void> {
    if (!this.connected) {
      this.connected = this.admin.connect().catch((err: unknown) => {
        this.connected = undefined;
        throw err;
      });
    }
    await this.connected;
    if (this.config.kafkaCreateTopics && !this.topicsEnsured) {
      const created = await ensureTopics(this.admin, this.settings);
      if (created.length > 0) this.logger.info({ topics: created }, 'created kafka topics');
      this.topicsEnsured = true;
    }
    await probeKafka(this.admin);
  }

  /**
   * Partition count of a topic, from cluster metadata, refreshed at most once a minute: the
   * gateway needs it to route each trace id to its partition. It is on every request's path,
   * so a known count is answered at once and refreshed in the background — one refresh at a
   * time — rather than making every request that arrives during the refresh wait for the
   * metadata round trip (issue #3's benchmark: each minute's expiry sent one metadata request
   * per in-flight client request and stalled them all, hundreds of ms at p99). Only the first
   * lookup waits, shared by every caller; it fails within 3 s when Kafka is unreachable.
   * A failed refresh keeps the last known count (partitions are only ever added by operators).
   */
  partitionCount(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached) {
      if (Date.now() - cached.at >= 60_000 && !this.partitionFetches.has(topic)) {
        this.fetchPartitionCount(topic).catch((err: unknown) =>
          this.logger.warn(
            { err, topic },
            'kafka topic metadata refresh failed; keeping last count',
          ),
        );
      }
      return Promise.resolve(cached.count);
    }
    return this.fetchPartitionCount(topic);
  }

  private fetchPartitionCount(topic: string): Promise<number> {
    let pending = this.partitionFetches.get(topic);
    if (!pending) {
      // Bounded: a client waiting on an unreachable cluster should hear 503 quickly, not after
      // kafkajs has exhausted its connection retries.
      pending = withTimeout(
        this.probe().then(() => this.admin.fetchTopicMetadata({ topics: [topic] })),
        3000,
        `no metadata for ${topic} within 3000 ms`,
      )
        .then((meta) => {
          const count = meta.topics[0]?.partitions.length ?? 0;
          if (count < 1) throw new Error(`topic ${topic} has no partitions`);
          this.partitionCounts.set(topic, { count, at: Date.now() });
          return count;
        })
        .finally(() => this.partitionFetches.delete(topic));
      this.partitionFetches.set(topic, pending);
    }
    return pending;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
  }
}

@Module({ providers: [KafkaAdmin], exports: [KafkaAdmin] })
export class BusModule {}
