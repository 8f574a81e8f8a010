export { TOPICS, SIGNALS, HEADERS, CONTENT_VERSION, type Signal } from './topics';
export { createKafka, ensureTopics, probeKafka, type KafkaSettings } from './kafka';
export { BusModule, KafkaAdmin } from './bus.module';
export {
  OtlpProducer,
  ProducerOverloadedError,
  ProduceFailedError,
  type OtlpRecord,
  type ProduceRequest,
  type OtlpProducerOptions,
} from './producer';
