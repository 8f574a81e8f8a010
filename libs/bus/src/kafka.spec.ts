import { Writable } from 'node:stream';
import pino from 'pino';
import { createKafka, retriableResponse } from './kafka';

/** kafkajs's own log lines as the process logger writes them: level name and message. */
function capture() {
  const lines: { level: string; msg: string; error?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as { level: string; msg: string; error?: string });
      done();
    },
  });
  const logger = pino({ formatters: { level: (label) => ({ level: label }) } }, sink);
  const kafka = createKafka(
    { brokers: ['127.0.0.1:1'], clientId: 'test', topicPartitions: 1, replicationFactor: 1 },
    logger,
    'spec',
  );
  return { lines, kafkaLog: kafka.logger() };
}

const LOADING = "The coordinator is loading and hence can't process requests for this group";

describe("kafkajs's log lines in the process log", () => {
  it('a broker error kafkajs retries is a warning, any other error stays an error', async () => {
    const { lines, kafkaLog } = capture();
    kafkaLog.error('Response InitProducerId(key: 22, version: 1)', { error: LOADING });
    kafkaLog.error('Response Produce(key: 0, version: 7)', {
      error: 'Not authorized to access topics: [Topic authorization failed]',
    });
    kafkaLog.error('Crash: KafkaJSNumberOfRetriesExceeded', { error: LOADING });
    kafkaLog.warn('something kafkajs warns about', {});
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'Response InitProducerId(key: 22, version: 1)'],
      ['error', 'Response Produce(key: 0, version: 7)'],
      ['error', 'Crash: KafkaJSNumberOfRetriesExceeded'],
      ['warn', 'something kafkajs warns about'],
    ]);
    expect(lines[0].error).toBe(LOADING);
  });

  it("knows kafkajs's retriable broker errors by their messages", () => {
    expect(retriableResponse('Response Fetch(key: 1, version: 11)', LOADING)).toBe(true);
    expect(
      retriableResponse(
        'Response Metadata(key: 3, version: 6)',
        'There is no leader for this topic-partition as we are in the middle of a leadership election',
      ),
    ).toBe(true);
    expect(retriableResponse('Response Fetch(key: 1, version: 11)', 'Unknown error')).toBe(false);
    expect(retriableResponse('Connection error', LOADING)).toBe(false);
  });
});
