import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { CONFIG, LOGGER, type Logger } from '@custodian/ops';
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

  constructor(
    @Inject(CONFIG) private readonly config: CustodianConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.settings = {
      brokers: config.kafkaBrokers,
      clientId: config.kafkaClientId,
      topicPartitions: config.kafkaTopicPartitions,
      replicationFactor: config.kafkaReplicationFactor,
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

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect().catch(() => undefined);
  }
}

@Module({ providers: [KafkaAdmin], exports: [KafkaAdmin] })
export class BusModule {}
