export {
  TOPICS,
  SIGNALS,
  HEADERS,
  CONTENT_VERSION,
  DEAD_LETTER_TOPIC,
  DEAD_LETTER_HEADERS,
  ALL_TOPICS,
  type Signal,
} from './topics';
export { compressionType, registerKafkaCodecs, type KafkaCompression } from './codecs';
export { createKafka, ensureTopics, probeKafka, type KafkaSettings } from './kafka';
export { BusModule, KafkaAdmin } from './bus.module';
export { DeadLetterProducer, type DeadLetterRecord } from './dead-letter';
export {
  OtlpProducer,
  PRODUCER_LANES,
  ProducerOverloadedError,
  ProduceFailedError,
  type OtlpRecord,
  type ProduceRequest,
  type OtlpProducerOptions,
} from './producer';
export { encodeProduceBody } from './kafkajs-produce';
