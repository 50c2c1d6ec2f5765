/**
 * A partition assigner for co-partitioned topics: partition N of every subscribed topic goes to the same group
 * member, so the state of a request (keyed by request_id on every input) is whole on one member. kafkajs' default
 * round-robin assigner spreads topic-partitions independently and would split it.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'PathwatchCoPartitioned',
  version: 0,
  assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const partitionsByTopic = new Map<string, number[]>();
    let maxPartitions = 0;
    for (const topic of topics) {
      const ids = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      partitionsByTopic.set(topic, ids);
      maxPartitions = Math.max(maxPartitions, ids.length);
    }
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    // Contiguous ranges of partition numbers per member (like Kafka's RangeAssignor), identical for every topic.
    const per = Math.floor(maxPartitions / Math.max(1, memberIds.length));
    const extra = maxPartitions % Math.max(1, memberIds.length);
    let next = 0;
    memberIds.forEach((memberId, i) => {
      const count = per + (i < extra ? 1 : 0);
      const range = new Set<number>();
      for (let p = next; p < next + count; p++) range.add(p);
      next += count;
      const mine = assignment.get(memberId) ?? {};
      for (const [topic, ids] of partitionsByTopic) mine[topic] = ids.filter((p) => range.has(p));
      assignment.set(memberId, mine);
    });
    return Promise.resolve(
      memberIds.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: assignment.get(memberId) ?? {},
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: 'PathwatchCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
