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
   * gateway needs it to route each trace id to its partition.
   */
  async partitionCount(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached && Date.now() - cached.at < 60_000) return cached.count;
    try {
      // Bounded: a client waiting on an unreachable cluster should hear 503 quickly, not after
      // kafkajs has exhausted its connection retries.
      const meta = await withTimeout(
        this.probe().then(() => this.admin.fetchTopicMetadata({ topics: [topic] })),
        3000,
        `no metadata for ${topic} within 3000 ms`,
      );
      const count = meta.topics[0]?.partitions.length ?? 0;
      if (count < 1) throw new Error(`topic ${topic} has no partitions`);
      this.partitionCounts.set(topic, { count, at: Date.now() });
      return count;
    } catch (err) {
      // Keep routing with the last known count while Kafka is briefly unreachable.
      if (cached) return cached.count;
      throw err;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
  }
}

@Module({ providers: [KafkaAdmin], exports: [KafkaAdmin] })
export class BusModule {}
