/**
 * Consumer-group assignment that keeps partition N of every otlp.* topic on one worker: the
 * gateway routes a trace's spans and the logs carrying its trace id to the same partition
 * number (../shared/ARCHITECTURE.md, "Kafka record contract"), and logs can only follow their
 * trace's tail decision if the same worker holds both. kafkajs's round-robin assignor would
 * spread them.
 */
import { AssignerProtocol, type Assigner, type Cluster } from 'kafkajs';

/** partition number → member, by sorted member id, the same for every topic. */
export function coPartitionAssignment(
  memberIds: string[],
  partitionsByTopic: Record<string, number[]>,
): Record<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  // Keyed by ids that come from outside: objects without a prototype, so an id such as
  // `__proto__` is a key like any other (the spec's property test found one that vanished).
  const out: Record<string, Record<string, number[]>> = Object.create(null);
  for (const m of members) out[m] = Object.create(null);
  if (members.length === 0) return out;
  for (const [topic, partitions] of Object.entries(partitionsByTopic)) {
    for (const p of partitions) {
      const m = members[p % members.length];
      (out[m][topic] ??= []).push(p);
    }
  }
  return out;
}

export const CoPartitionAssigner = ({ cluster }: { cluster: Cluster }): Assigner => ({
  name: 'CustodianCoPartition',
  version: 1,
  async assign({ members, topics }) {
    const partitionsByTopic: Record<string, number[]> = {};
    for (const topic of topics) {
      partitionsByTopic[topic] = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId);
    }
    const plan = coPartitionAssignment(
      members.map((m) => m.memberId),
      partitionsByTopic,
    );
    return Object.entries(plan).map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'CustodianCoPartition',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
