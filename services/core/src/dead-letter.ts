/**
 * Dead letters: an input that cannot be used goes to the dead-letter topic with its original bytes, headers,
 * source position, the stage that rejected it and a specific reason. Nothing is dropped silently.
 */
import type { DeadLetter } from '@pathwatch/schemas';
import type { IncomingMessage, Producer } from './kafka.js';
import type { CoreMetrics } from './metrics.js';
import type { Logger } from './logger.js';

export interface Rejection {
  /** Stable code, e.g. SCHEMA_DECODE_BAD_AVRO. */
  code: string;
  /** Specific, human-readable: names the field or byte at fault. */
  reason: string;
}

export interface DeadLetterPublisher {
  /** Publishes the rejected messages; resolves once the dead-letter topic has them (acks=all). */
  publish(stage: string, items: readonly { msg: IncomingMessage; rejection: Rejection }[]): Promise<void>;
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
    reason: rejection.reason,
    source_topic: msg.topic,
    source_partition: msg.partition,
    source_offset: msg.offset,
    source_key: msg.key,
    original_value: msg.value,
    original_headers: msg.headers,
    failed_at: failedAtMs,
  };
}

export function createDeadLetterPublisher(opts: {
  producer: Producer;
  topic: string;
  encode: (record: DeadLetter) => Buffer;
  metrics: CoreMetrics;
  logger: Logger;
  now: () => number;
}): DeadLetterPublisher {
  const log = opts.logger.child({ module: 'dead-letter' });
  return {
    async publish(stage, items) {
      if (items.length === 0) return;
      const failedAt = opts.now();
      await opts.producer.send(
        opts.topic,
        items.map(({ msg, rejection }) => ({
          key: msg.key,
          value: opts.encode(toDeadLetter(stage, msg, rejection, failedAt)),
          headers: {
            'pw-stage': stage,
            'pw-reason-code': rejection.code,
            'pw-source-topic': msg.topic,
            'pw-source-partition': String(msg.partition),
            'pw-source-offset': msg.offset,
          },
        })),
      );
      for (const { msg, rejection } of items) {
        opts.metrics.deadLetters.inc({ stage, reason_code: rejection.code });
        log.warn(
          {
            stage,
            topic: msg.topic,
            partition: msg.partition,
            offset: msg.offset,
            code: rejection.code,
            reason: rejection.reason,
          },
          'record dead-lettered',
        );
      }
    },
  };
}
