/**
 * Reads a compacted changelog topic from the beginning to its current end and returns, per partition, the
 * latest value of every key (a null value — a tombstone — removes the key).
 *
 * The end is the high watermark seen at start. Transaction markers and aborted records occupy offsets the
 * consumer never sees, so a partition whose tail is such records is also done once no batch arrived for
 * `quietMs` (the consumer polls every ~100 ms, so silence means caught up).
 */
import type { KafkaClient } from '@pathwatch/core';

export async function readTopicToEnd(
  kafka: KafkaClient,
  topic: string,
  groupId: string,
  quietMs = 1000,
): Promise<Map<number, { key: string; value: Buffer }[]>> {
  const admin = await kafka.admin();
  let ends: { partition: number; low: string; high: string }[];
  try {
    ends = await admin.topicOffsets(topic);
  } finally {
    await admin.close();
  }
  const result = new Map<number, { key: string; value: Buffer }[]>();
  const remaining = new Map<number, bigint>();
  for (const e of ends) {
    if (BigInt(e.high) > BigInt(e.low)) remaining.set(e.partition, BigInt(e.high));
  }
  if (remaining.size === 0) return result;

  const latest = new Map<number, Map<string, Buffer | null>>();
  const consumer = await kafka.consumer({
    groupId,
    topics: [topic],
    fromBeginning: true,
    maxBytesPerPartition: 8 * 1_048_576,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let quiet = setTimeout(resolve, quietMs * 3);
      consumer
        .run(async (batch, control) => {
          let m = latest.get(batch.partition);
          if (!m) latest.set(batch.partition, (m = new Map<string, Buffer | null>()));
          for (const msg of batch.messages) {
            if (msg.key) m.set(msg.key.toString('utf8'), msg.value);
          }
          const last = batch.messages[batch.messages.length - 1];
          if (last) {
            control.markProcessed(last.offset);
            const end = remaining.get(batch.partition);
            if (end !== undefined && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition);
          }
          clearTimeout(quiet);
          if (remaining.size === 0) resolve();
          else quiet = setTimeout(resolve, quietMs);
          return Promise.resolve();
        })
        .catch(reject);
    });
  } finally {
    await consumer.close();
  }
  for (const [partition, m] of latest) {
    const list: { key: string; value: Buffer }[] = [];
    for (const [key, value] of m) if (value !== null) list.push({ key, value });
    result.set(partition, list);
  }
  return result;
}
