/**
 * Dead letters: an input that cannot be used goes to the dead-letter topic with its original bytes, headers,
 * source position, the stage that rejected it and a specific reason. Nothing is dropped silently.
 *
 * A dead letter is never larger than the dead-letter topic accepts: one that would exceed the size limit is written
 * anyway with its payload cut to fit (`pw-truncated` says what was cut; `pw-original-size` and `pw-original-sha256`
 * identify the original, which stays readable at its source coordinates). Otherwise one oversized input would make
 * its dead letter fail for good and stop the stage (the record would be met again after every restart).
 */
import { createHash } from 'node:crypto';
import type { DeadLetter } from '@pathwatch/schemas';
import type { Admin, IncomingMessage, OutgoingMessage, Producer } from './kafka.js';
import type { CoreMetrics } from './metrics.js';
import type { Logger } from './logger.js';

export interface Rejection {
  /** Stable code, e.g. SCHEMA_DECODE_BAD_AVRO. */
  code: string;
  /** Specific, human-readable: names the field or byte at fault. */
  reason: string;
}

export interface DeadLetterItem {
  msg: IncomingMessage;
  rejection: Rejection;
}

export interface DeadLetterPublisher {
  /** Publishes the rejected messages; resolves once the dead-letter topic has them (acks=all). */
  publish(stage: string, items: readonly DeadLetterItem[]): Promise<void>;
}

/** The default of PATHWATCH_DEAD_LETTER_MAX_BYTES: fits a stock broker (message.max.bytes 1048588) with room. */
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 1_000_000;
/** The Kafka key of a dead letter is cut to this many bytes (the whole original key is in `source_key`). */
export const DEAD_LETTER_KEY_MAX_BYTES = 1024;
/** The `pw-reason` header is cut to this many characters; the record's `reason` field to REASON_MAX_CHARS. */
export const REASON_HEADER_MAX_CHARS = 512;
const REASON_MAX_CHARS = 4096;
/** Original headers larger than this are dropped (not cut) from a dead letter that must be cut to fit. */
const ORIGINAL_HEADERS_KEEP_BYTES = 4096;
/**
 * Upper bound of what a record batch holding one record adds to its key, value and header bytes (magic v2):
 * 61 bytes of batch header, and per record its length, attributes, timestamp and offset deltas, key and value
 * lengths and header count as varints.
 */
const BATCH_OVERHEAD_BYTES = 61 + 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** Per header: key and value lengths as varints. */
const HEADER_OVERHEAD_BYTES = 10;
/** Slack below the limit for anything the bound above misses. */
const SAFETY_BYTES = 512;

/** Upper bound of the bytes one record takes in a record batch of its own (what the broker checks). */
export function recordBatchBytes(
  key: Buffer | string | null,
  value: Buffer | null,
  headers: Readonly<Record<string, string>> | undefined,
): number {
  let n = BATCH_OVERHEAD_BYTES + (value?.length ?? 0);
  if (key !== null) n += typeof key === 'string' ? Buffer.byteLength(key) : key.length;
  if (headers)
    for (const [k, v] of Object.entries(headers))
      n += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Bytes of an input record: key, value and headers (what RECONCILER_MAX_INPUT_RECORD_BYTES bounds). */
export function incomingRecordBytes(msg: IncomingMessage): number {
  let n = (msg.key?.length ?? 0) + (msg.value?.length ?? 0);
  // On every consumed record: for-in allocates nothing.
  for (const k in msg.headers) n += Buffer.byteLength(k) + Buffer.byteLength(msg.headers[k] as string);
  return n;
}

export function toDeadLetter(
  stage: string,
  msg: IncomingMessage,
  rejection: Rejection,
  failedAtMs: number,
): DeadLetter {
  return {
    stage,
    reason_code: rejection.code,
    reason: cut(rejection.reason, REASON_MAX_CHARS),
    source_topic: msg.topic,
    source_partition: msg.partition,
    source_offset: msg.offset,
    source_key: msg.key,
    original_value: msg.value,
    original_headers: msg.headers,
    failed_at: failedAtMs,
  };
}

export interface BuiltDeadLetter {
  message: OutgoingMessage;
  /** What was cut to fit (empty: written whole): `value`, `key`, `headers`. */
  truncated: readonly string[];
  /** Bytes of the record as sent (upper bound, batch overhead included). */
  bytes: number;
}

export interface DeadLetterBuildOptions {
  encode: (record: DeadLetter) => Buffer;
  /** Largest record batch of one dead letter the topic accepts (see resolveDeadLetterMaxBytes). */
  maxRecordBytes: number;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function headerBytes(h: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(h)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/**
 * The dead-letter record of one rejected input: whole when it fits `maxRecordBytes`, else cut to fit. Cutting
 * drops the original headers when they are large, then cuts the original value and `source_key` to prefixes (the
 * key keeps at least its first DEAD_LETTER_KEY_MAX_BYTES bytes when it needs them); the record stays a valid
 * DeadLetter.
 */
export function buildDeadLetter(
  stage: string,
  item: DeadLetterItem,
  failedAtMs: number,
  opts: DeadLetterBuildOptions,
): BuiltDeadLetter {
  const { msg, rejection } = item;
  const budget = opts.maxRecordBytes - SAFETY_BYTES;
  const truncated: string[] = [];
  const headers: Record<string, string> = {
    'pw-stage': stage,
    'pw-reason-code': rejection.code,
    'pw-reason': cut(rejection.reason, REASON_HEADER_MAX_CHARS),
    'pw-source-topic': msg.topic,
    'pw-source-partition': String(msg.partition),
    'pw-source-offset': msg.offset,
    'pw-original-size': String(msg.value?.length ?? -1),
  };
  if (msg.value !== null) headers['pw-original-sha256'] = sha256(msg.value);
  let key: Buffer | null = msg.key;
  if (key !== null && key.length > DEAD_LETTER_KEY_MAX_BYTES) {
    headers['pw-original-key-size'] = String(key.length);
    headers['pw-original-key-sha256'] = sha256(key);
    key = key.subarray(0, DEAD_LETTER_KEY_MAX_BYTES);
    truncated.push('key');
  }
  const record = toDeadLetter(stage, msg, rejection, failedAtMs);
  const finish = (value: Buffer): BuiltDeadLetter => {
    if (truncated.length > 0) headers['pw-truncated'] = truncated.join(',');
    return { message: { key, value, headers }, truncated, bytes: recordBatchBytes(key, value, headers) };
  };
  // Room for the header that says what was cut.
  const sizeOf = (value: Buffer): number =>
    recordBatchBytes(key, value, headers) + HEADER_OVERHEAD_BYTES + 40;

  const whole = opts.encode(record);
  if (sizeOf(whole) <= budget) return finish(whole);

  if (headerBytes(record.original_headers) > ORIGINAL_HEADERS_KEEP_BYTES) {
    record.original_headers = {};
    truncated.push('headers');
    const withoutHeaders = opts.encode(record);
    if (sizeOf(withoutHeaders) <= budget) return finish(withoutHeaders);
  }
  // What the record takes without the two byte fields, and what is left for them.
  const value = msg.value ?? Buffer.alloc(0);
  const sourceKey = msg.key ?? Buffer.alloc(0);
  const fixed = sizeOf(
    opts.encode({ ...record, original_value: Buffer.alloc(0), source_key: Buffer.alloc(0) }),
  );
  let room = Math.max(0, budget - fixed - 16);
  let keyPart = Math.min(sourceKey.length, Math.max(DEAD_LETTER_KEY_MAX_BYTES, room - value.length), room);
  let valuePart = Math.min(value.length, room - keyPart);
  if (valuePart < value.length) truncated.push('value');
  if (keyPart < sourceKey.length && !truncated.includes('key')) truncated.push('key');
  for (let attempt = 0; ; attempt++) {
    const encoded = opts.encode({
      ...record,
      original_value: msg.value === null ? null : value.subarray(0, valuePart),
      source_key: msg.key === null ? null : sourceKey.subarray(0, keyPart),
    });
    const over = sizeOf(encoded) - budget;
    // Another encoding (JSON: base64) may cost more than a byte per byte: shrink by the overshoot and retry.
    if (over <= 0 || attempt >= 4 || (valuePart === 0 && keyPart === 0)) return finish(encoded);
    room = Math.ceil(over * 1.5) + 64;
    const fromValue = Math.min(valuePart, room);
    valuePart -= fromValue;
    keyPart = Math.max(0, keyPart - (room - fromValue));
    if (!truncated.includes('value') && msg.value !== null) truncated.push('value');
  }
}

/** Metrics and one log line per dead letter, once it is written (or committed). */
export function recordDeadLetters(
  log: Logger,
  metrics: CoreMetrics,
  stage: string,
  items: readonly DeadLetterItem[],
  built: readonly BuiltDeadLetter[],
): void {
  items.forEach(({ msg, rejection }, i) => {
    metrics.deadLetters.inc({ stage, reason_code: rejection.code });
    const b = built[i];
    log.warn(
      {
        stage,
        topic: msg.topic,
        partition: msg.partition,
        offset: msg.offset,
        code: rejection.code,
        reason: cut(rejection.reason, REASON_HEADER_MAX_CHARS),
        originalBytes: msg.value?.length ?? 0,
        ...(b && b.truncated.length > 0
          ? { truncated: b.truncated.join(','), deadLetterBytes: b.bytes }
          : {}),
      },
      b && b.truncated.length > 0
        ? 'record dead-lettered (cut to fit the dead-letter topic)'
        : 'record dead-lettered',
    );
  });
}

/** Topic configuration for the dead-letter topic Pathwatch creates: it accepts every dead letter it is sent. */
export function deadLetterTopicConfigs(maxRecordBytes: number): Readonly<Record<string, string>> {
  return { 'max.message.bytes': String(maxRecordBytes) };
}

/**
 * The dead-letter size limit to work with: the configured one, or the topic's `max.message.bytes` when that is
 * smaller (a topic created by someone else, or with the broker's default). A topic whose configuration cannot be
 * read (no DescribeConfigs permission) keeps the configured limit, with a warning.
 */
export async function resolveDeadLetterMaxBytes(
  admin: Pick<Admin, 'topicConfig'>,
  topic: string,
  configured: number,
  logger: Logger,
): Promise<number> {
  const log = logger.child({ module: 'dead-letter' });
  try {
    const cfg = await admin.topicConfig(topic, ['max.message.bytes']);
    const topicMax = Number(cfg['max.message.bytes']);
    if (Number.isSafeInteger(topicMax) && topicMax > 0 && topicMax < configured) {
      log.warn(
        { topic, topicMaxMessageBytes: topicMax, configured },
        "the dead-letter topic's max.message.bytes is below PATHWATCH_DEAD_LETTER_MAX_BYTES: dead letters are cut to the topic's limit",
      );
      return topicMax;
    }
  } catch (err) {
    log.warn(
      { err, topic, configured },
      'cannot read the dead-letter topic configuration: assuming it accepts PATHWATCH_DEAD_LETTER_MAX_BYTES',
    );
  }
  return configured;
}

export function createDeadLetterPublisher(opts: {
  producer: Producer;
  topic: string;
  encode: (record: DeadLetter) => Buffer;
  metrics: CoreMetrics;
  logger: Logger;
  now: () => number;
  /** Largest dead letter the topic accepts. @default DEFAULT_DEAD_LETTER_MAX_BYTES */
  maxRecordBytes?: number;
}): DeadLetterPublisher {
  const log = opts.logger.child({ module: 'dead-letter' });
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
  return {
    async publish(stage, items) {
      if (items.length === 0) return;
      const failedAt = opts.now();
      const built = items.map((item) =>
        buildDeadLetter(stage, item, failedAt, { encode: opts.encode, maxRecordBytes }),
      );
      await opts.producer.send(
        opts.topic,
        built.map((b) => b.message),
        { maxBatchBytes: maxRecordBytes - SAFETY_BYTES },
      );
      recordDeadLetters(log, opts.metrics, stage, items, built);
    },
  };
}

/** Produce-request chunk bound for dead letters under `maxRecordBytes` (a batch of several stays under it too). */
export function deadLetterBatchBytes(maxRecordBytes: number): number {
  return maxRecordBytes - SAFETY_BYTES;
}
