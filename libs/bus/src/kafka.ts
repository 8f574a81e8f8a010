import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import { registerKafkaCodecs } from './codecs';
import { patchKafkajsEncoder } from './kafkajs-encoder';
import { patchKafkajsProduce } from './kafkajs-produce';
import { patchKafkajsRequestQueue } from './kafkajs-request-queue';
import { ALL_TOPICS, TOPICS } from './topics';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topicPartitions: number;
  replicationFactor: number;
  /** max.message.bytes of the topics Custodian creates. */
  maxMessageBytes?: number;
}

/**
 * A kafkajs client whose own log lines go through the process logger, and which writes and
 * reads every KAFKA_COMPRESSION codec (codecs.ts), with kafkajs's request encoder growing
 * without zero-filling (kafkajs-encoder.ts), Produce request bodies written in one pass
 * (kafkajs-produce.ts) and its request queues arming a timer only when a request waits
 * (kafkajs-request-queue.ts).
 */
export function createKafka(settings: KafkaSettings, logger: Logger, clientSuffix: string): Kafka {
  registerKafkaCodecs();
  patchKafkajsEncoder();
  patchKafkajsProduce();
  patchKafkajsRequestQueue();
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: `${settings.clientId}-${clientSuffix}`,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 300, retries: 5, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const fields = { ...rest, namespace: undefined };
        if (level <= logLevel.ERROR && !retriableResponse(message, rest.error)) {
          log.error(fields, message);
        } else if (level <= logLevel.WARN) log.warn(fields, message);
        else log.debug(fields, message);
      },
  });
}

/**
 * The messages of the broker errors kafkajs retries by itself (its protocol error table, e.g.
 * "The coordinator is loading and hence can't process requests for this group" for the first
 * seconds after a broker starts, or a leader election's). kafkajs logs every error response at
 * ERROR before retrying it; those are warnings: a retry that runs out surfaces as an error
 * where the operation fails.
 */
const RETRIABLE_BROKER_ERRORS: ReadonlySet<string> = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const table = require('kafkajs/src/protocol/error') as {
      errorCodes: { message: string; retriable: boolean }[];
    };
    return new Set(table.errorCodes.filter((e) => e.retriable).map((e) => e.message));
  } catch {
    return new Set<string>();
  }
})();

/** A kafkajs "Response <api>" error line for a broker error it retries. */
export function retriableResponse(message: string, error: unknown): boolean {
  return (
    message.startsWith('Response ') &&
    typeof error === 'string' &&
    RETRIABLE_BROKER_ERRORS.has(error)
  );
}

/**
 * Creates the otlp.* topics (the signal topics and otlp.deadletter) that are missing; existing
 * topics are left as they are.
 */
export async function ensureTopics(admin: Admin, settings: KafkaSettings): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = ALL_TOPICS.filter((t) => !existing.has(t)).map((topic) => ({
    topic,
    numPartitions: settings.topicPartitions,
    replicationFactor: settings.replicationFactor,
    configEntries: settings.maxMessageBytes
      ? [{ name: 'max.message.bytes', value: String(settings.maxMessageBytes) }]
      : [],
  }));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  }
  return missing.map((t) => t.topic);
}

/** Readiness probe: the cluster answers a metadata request and the otlp.* topics exist. */
export async function probeKafka(admin: Admin): Promise<void> {
  const topics = new Set(await admin.listTopics());
  const absent = Object.values(TOPICS).filter((t) => !topics.has(t));
  if (absent.length > 0) throw new Error(`topics missing: ${absent.join(', ')}`);
}
