import { describe, expect, it } from 'vitest';
import { consumeMessages, createTopic, kafkaBrokers, produce, testKafka } from '../support/kafka.js';

describe('the broker provided to integration tests', () => {
  it('reports a single node at the provided address', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => `${b.host}:${b.port}`)).toEqual(kafkaBrokers());
    } finally {
      await admin.disconnect();
    }
  });

  it('round-trips keyed messages with headers across partitions, in order per partition', async () => {
    const topic = await createTopic('it-roundtrip', 3);
    const sent = Array.from({ length: 30 }, (_, i) => ({
      key: `k${i % 5}`,
      value: `v${i}`,
      headers: { seq: String(i) },
    }));
    await produce(topic, sent);

    const got = await consumeMessages(topic, sent.length);

    expect(got.map((m) => m.value).sort()).toEqual(sent.map((m) => m.value).sort());
    expect(new Set(got.map((m) => m.partition)).size).toBeGreaterThan(1);
    // Same key, same partition; within a partition, the order sent.
    for (let k = 0; k < 5; k++) {
      const forKey = got.filter((m) => m.key === `k${k}`);
      expect(new Set(forKey.map((m) => m.partition)).size).toBe(1);
      const seqs = forKey.map((m) => Number(m.headers['seq']?.toString()));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('commits group offsets, so a restarted consumer resumes after them', async () => {
    const topic = await createTopic('it-offsets', 1);
    const groupId = `it-resume-${topic}`;
    await produce(topic, [{ value: 'a' }, { value: 'b' }]);
    const first = await consumeMessages(topic, 2, { groupId });
    expect(first.map((m) => m.value)).toEqual(['a', 'b']);

    await produce(topic, [{ value: 'c' }]);
    const second = await consumeMessages(topic, 1, { groupId });
    expect(second.map((m) => m.value)).toEqual(['c']);
  });
});
