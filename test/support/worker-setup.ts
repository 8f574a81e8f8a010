import pino from 'pino';
import { TOPICS, createKafka } from '@custodian/bus';
import { PolicyVersionRepository, SinkRepository, type PrismaClient } from '@custodian/db';
import { parsePolicy, policyHash, type PolicyDocument } from '@custodian/policy';

export function testKafka() {
  return createKafka(
    {
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'e2e',
      topicPartitions: 6,
      replicationFactor: 1,
    },
    pino({ level: 'silent' }),
    'worker-e2e',
  );
}

/**
 * Positions a new consumer group at the current end of the otlp.* topics: earlier suites left
 * other tenants' records there, and a test worker should start after them.
 */
export async function groupAtEnd(groupId: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    for (const topic of Object.values(TOPICS)) {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Gives a tenant a Zipkin sink named "zipkin" (not cleared for restricted values) and activates
 * a policy that keeps traces with an error after `decisionWait` and routes them there.
 */
export async function zipkinErrorsPolicy(
  db: PrismaClient,
  tenantId: string,
  decisionWait: string,
): Promise<PolicyDocument> {
  await new SinkRepository(db).create(tenantId, {
    name: 'zipkin',
    kind: 'zipkin',
    config: { endpoint: process.env.ZIPKIN_URL! },
    clearedForRestricted: false,
  });
  const source = JSON.stringify({
    version: 1,
    sampling: {
      tail: {
        decision_wait: decisionWait,
        policies: [
          { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        ],
      },
    },
    routes: [{ sink: 'zipkin', select: 'all', restricted_fields: false }],
  });
  const { policy, problems } = parsePolicy(source, 'json');
  if (!policy) throw new Error(JSON.stringify(problems));
  const versions = new PolicyVersionRepository(db);
  const v = await versions.create(tenantId, {
    document: policy as never,
    source,
    format: 'json',
    checksum: policyHash(policy),
  });
  if (!(await versions.activate(tenantId, v.id))) throw new Error('policy not activated');
  return policy;
}
