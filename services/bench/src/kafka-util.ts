// Broker and topic plumbing of the end-to-end runs: a throwaway local broker unless KAFKA_BROKERS is set,
// run-scoped topic names, bulk produce with progress, and offsets read through the admin client.
import type { Admin, KafkaClient, Logger, OutgoingMessage, Producer } from '@pathwatch/core';
import { startLocalKafka } from '@pathwatch/local-kafka';
import { CHANGELOG_TOPIC_CONFIGS } from '@pathwatch/reconciler';
import type { TopicNames } from '@pathwatch/schemas';
import type { OutboundRecord } from '@pathwatch/simulator';
import { step } from './progress.js';

export interface Broker {
  readonly brokers: readonly string[];
  /** e.g. "4.1.2 (local KRaft broker started by the bench, heap 512 MiB)". */
  readonly description: string;
  readonly pid: number | null;
  stop(): Promise<void>;
}

export async function openBroker(brokers: readonly string[] | undefined, heapMb = 512): Promise<Broker> {
  if (brokers)
    return {
      brokers,
      description: `external (${brokers.join(',')}; version not probed)`,
      pid: null,
      stop: () => Promise.resolve(),
    };
  const s = step('starting a local Kafka broker');
  const kafka = await startLocalKafka({ heapMb, onProgress: (p) => s.say(p.message) });
  s.done(
    `Kafka ${kafka.kafkaVersion} ready on ${kafka.brokers.join(',')} in ${(kafka.readyMs / 1000).toFixed(1)} s`,
  );
  return {
    brokers: kafka.brokers,
    description: `${kafka.kafkaVersion} (local single-node KRaft broker started by the bench, JVM heap ${heapMb} MiB, same machine)`,
    pid: kafka.pid,
    stop: () => kafka.stop(),
  };
}

export interface ScenarioTopics {
  readonly topics: TopicNames;
  readonly changelog: string;
  readonly inputs: readonly string[];
}

/** Topic names private to one scenario of one run, so runs and scenarios never see each other's records. */
export function scenarioTopics(runId: string, scenario: string): ScenarioTopics {
  const p = `pwbench.${runId}.${scenario}`;
  const topics: TopicNames = {
    request: `${p}.requests`,
    dispatch: `${p}.dispatches`,
    callback: `${p}.callbacks`,
    verdict: `${p}.verdicts`,
    action: `${p}.actions`,
    dead_letter: `${p}.dead-letter`,
  };
  return { topics, changelog: `${p}.changelog`, inputs: [topics.request, topics.dispatch, topics.callback] };
}

export async function createInputTopics(admin: Admin, t: ScenarioTopics, partitions: number): Promise<void> {
  await admin.ensureTopics([
    ...t.inputs.map((topic) => ({ topic, partitions })),
    { topic: t.topics.verdict, partitions },
    { topic: t.topics.action, partitions },
    { topic: t.topics.dead_letter, partitions: 1 },
    {
      topic: t.changelog,
      partitions,
      configs: CHANGELOG_TOPIC_CONFIGS,
    },
  ]);
}

/** Sum of the high watermarks of `topics` (records ever written, transaction markers included). */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<number> {
  let n = 0;
  for (const t of topics) for (const p of await admin.topicOffsets(t)) n += Number(p.high);
  return n;
}

/** Sum of a group's committed offsets over `topics` (0 where nothing is committed). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  let n = 0;
  for (const t of topics)
    for (const p of await admin.committedOffsets(groupId, t)) n += Math.max(0, Number(p.offset));
  return n;
}

export interface ProduceResult {
  readonly records: number;
  readonly bytes: number;
  readonly ms: number;
}

/**
 * Sends records in their order, grouped per topic into requests of up to `batch` records, with up to `inFlight`
 * requests outstanding. Re-maps topics through `topicFor` (the simulator's encoder names the default topics).
 */
export async function produceAll(
  producer: Producer,
  records: Iterable<OutboundRecord>,
  opts: {
    total: number;
    label: string;
    topicFor: (t: string) => string;
    batch?: number;
    inFlight?: number;
    onRecord?: (r: OutboundRecord) => void;
  },
): Promise<ProduceResult> {
  const batchSize = opts.batch ?? 2000;
  const maxInFlight = opts.inFlight ?? 4;
  const s = step(opts.label);
  const t0 = performance.now();
  const pending = new Map<string, OutgoingMessage[]>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let bytes = 0;
  const flush = async (topic: string): Promise<void> => {
    const msgs = pending.get(topic);
    if (!msgs || msgs.length === 0) return;
    pending.set(topic, []);
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const p = producer.send(topic, msgs).then(() => {
      inFlight.delete(p);
      sent += msgs.length;
      s.update(sent, opts.total);
    });
    inFlight.add(p);
  };
  for (const r of records) {
    opts.onRecord?.(r);
    const topic = opts.topicFor(r.topic);
    let list = pending.get(topic);
    if (!list) pending.set(topic, (list = []));
    list.push({ key: r.key, value: r.value, headers: r.headers });
    bytes += r.value.length;
    if (list.length >= batchSize) await flush(topic);
  }
  for (const topic of [...pending.keys()]) await flush(topic);
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  s.done(
    `${sent.toLocaleString('en-US')} records, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${Math.round((sent * 1000) / ms).toLocaleString('en-US')} records/s`,
  );
  return { records: sent, bytes, ms };
}

/** Maps the simulator's default topic names onto a scenario's topics. */
export function topicMapper(defaults: TopicNames, t: ScenarioTopics): (topic: string) => string {
  const map = new Map<string, string>([
    [defaults.request, t.topics.request],
    [defaults.dispatch, t.topics.dispatch],
    [defaults.callback, t.topics.callback],
  ]);
  return (topic) => map.get(topic) ?? topic;
}

/** Polls `fn` every `intervalMs` until it returns a value (not undefined) or `timeoutMs` passes (then null). */
export async function pollUntil<T>(
  fn: () => Promise<T | undefined>,
  intervalMs: number,
  timeoutMs: number,
): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type { KafkaClient, Logger };
