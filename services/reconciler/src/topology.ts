/**
 * The reconciler's topic layout, checked (and, when it may, created) before it consumes: every input and the
 * changelog co-partitioned by request_id, the changelog never compacted or expired, the dead-letter topic sized to
 * its record cap. A layout no retry can fix is a TopologyError naming what to change.
 */
import {
  TopologyError,
  deadLetterTopicConfigs,
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  type Admin,
  type TopicCreation,
} from '@pathwatch/core';
import type { TopicNames } from '@pathwatch/schemas';
import { CHANGELOG_TOPIC_CONFIGS } from './changelog.js';

export interface TopologyOptions {
  readonly inputTopics: readonly string[];
  readonly topics: Pick<TopicNames, 'verdict' | 'action' | 'dead_letter'>;
  readonly changelogTopic: string;
  readonly createTopics: boolean;
  readonly topicPartitions: number;
  readonly topicCreation?: TopicCreation | undefined;
  readonly deadLetterMaxBytes?: number | undefined;
}

/** Creates the topics if allowed, checks the layout, and returns the input partition count. */
export async function checkTopology(admin: Admin, opts: TopologyOptions): Promise<number> {
  const { inputTopics, changelogTopic } = opts;
  if (opts.createTopics) {
    const p = opts.topicPartitions;
    const rf = opts.topicCreation?.replicationFactor;
    const created = {
      ...(rf === undefined ? {} : { replicationFactor: rf }),
      ...(opts.topicCreation?.configs === undefined ? {} : { configs: opts.topicCreation.configs }),
    };
    await admin.ensureTopics([
      ...inputTopics.map((topic) => ({ topic, partitions: p, ...created })),
      { topic: opts.topics.verdict, partitions: p, ...created },
      { topic: opts.topics.action, partitions: p, ...created },
      {
        topic: opts.topics.dead_letter,
        partitions: 1,
        ...created,
        configs: {
          ...created.configs,
          ...deadLetterTopicConfigs(opts.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES),
        },
      },
      {
        topic: changelogTopic,
        partitions: p,
        ...(rf === undefined ? {} : { replicationFactor: rf }),
        configs: CHANGELOG_TOPIC_CONFIGS,
      },
    ]);
  }
  // State per request lives on the partition its request_id hashes to, in every input and in the changelog.
  const counts = await Promise.all(
    [...inputTopics, changelogTopic].map(async (t) => [t, await admin.partitionCount(t)] as const),
  );
  const policy = await admin.topicConfig(changelogTopic, ['cleanup.policy', 'retention.ms']);
  if ((policy['cleanup.policy'] ?? '').includes('compact') || (policy['retention.ms'] ?? '-1') !== '-1') {
    throw new TopologyError(
      `the changelog topic ${changelogTopic} has cleanup.policy=${policy['cleanup.policy'] ?? '?'} and ` +
        `retention.ms=${policy['retention.ms'] ?? '?'}: the broker would drop state. It needs cleanup.policy=delete and ` +
        'retention.ms=-1 (the reconciler purges it after each snapshot); set RECONCILER_CHANGELOG_TOPIC to a new topic or change its configuration.',
    );
  }
  const distinct = new Set(counts.map(([, n]) => n));
  if (distinct.size !== 1) {
    throw new TopologyError(
      `inputs must be co-partitioned by request_id: partition counts differ (${counts.map(([t, n]) => `${t}=${n}`).join(', ')}). ` +
        'Give every input topic and the changelog the same number of partitions, and key records by request_id.',
    );
  }
  return counts[0]?.[1] ?? 0;
}
