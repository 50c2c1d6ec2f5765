/**
 * `pathwatch tail verdicts|actions|dead-letter [--json] [--from-beginning] [--max N]`: follows one output topic,
 * decoded, one line per record on stdout — nothing else goes to stdout (logs and warnings go to stderr), so it
 * works in pipelines (`| jq`, `| grep`, `| head`). Reads committed records only (read_committed, like every
 * downstream consumer should), under a fresh random consumer group that never commits offsets (the broker drops
 * it when it leaves). Stops cleanly, exit 0, on SIGINT/SIGTERM, on a closed pipe (EPIPE) or after --max records.
 */
import { randomBytes } from 'node:crypto';
import {
  codecFromConfig,
  createKafka,
  createRootLogger,
  kafkaSecurityFromConfig,
  topicNamesFromConfig,
  type ConnectConfig,
  type Consumer,
  type IncomingMessage,
  type LogLevel,
} from '@pathwatch/core';
import type { Action, DeadLetter, Verdict } from '@pathwatch/schemas';

/** What `tail` follows: the kind, and the topic (its configured name: PATHWATCH_TOPIC_*). */
export const TAIL_TOPICS = {
  verdicts: { kind: 'verdict', topic: 'verdict' },
  actions: { kind: 'action', topic: 'action' },
  'dead-letter': { kind: 'dead_letter', topic: 'dead_letter' },
} as const;

export type TailWhat = keyof typeof TAIL_TOPICS;

export interface TailOptions {
  readonly what: TailWhat;
  readonly json: boolean;
  readonly fromBeginning: boolean;
  /** Exit after this many records (undefined: follow until stopped). */
  readonly max: number | undefined;
  readonly brokers: readonly string[];
  /** Topic names, registry and TLS/SASL settings. */
  readonly connect: ConnectConfig;
  /** Use the TLS/SASL settings (false for the plaintext local broker). */
  readonly secure: boolean;
  readonly logLevel: LogLevel;
  /** @default process.stdout */
  readonly out?: NodeJS.WritableStream;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function verdictLine(v: Verdict): string {
  const tags = [
    v.provisional ? 'provisional' : '',
    v.is_correction ? `correction(from ${v.previous_verdict ?? '?'})` : '',
    v.error_category === null ? '' : `error=${v.error_category}`,
    v.flags.length > 0 ? `flags=${v.flags.join(',')}` : '',
  ].filter((t) => t !== '');
  return `${iso(v.decided_at)} ${v.request_id} v${v.version} ${v.verdict} ${v.operation}/${v.channel} tenant=${v.tenant_id} fired_by=${v.fired_by}${tags.length > 0 ? ` ${tags.join(' ')}` : ''}`;
}

function actionLine(a: Action): string {
  const extra = [
    a.retracts_action_id === null ? '' : `retracts=${a.retracts_action_id}`,
    a.last_provider === null ? '' : `last_provider=${a.last_provider}`,
    a.last_route === null ? '' : `last_route=${a.last_route}`,
    a.provisional ? 'provisional' : '',
  ];
  if (a.rule_id !== null) extra.push(`rule=${a.rule_id}`);
  for (const [k, val] of Object.entries(a.params)) extra.push(`${k}=${val}`);
  return `${iso(a.created_at)} ${a.action_id} ${a.kind} reason=${a.reason} ${a.operation}/${a.channel} tenant=${a.tenant_id} verdict=${a.verdict_id}@v${a.verdict_version}${extra
    .filter((t) => t !== '')
    .map((t) => ` ${t}`)
    .join('')}`;
}

function deadLetterLine(d: DeadLetter): string {
  return `${iso(d.failed_at)} ${d.stage} ${d.reason_code} ${d.source_topic}[${d.source_partition}]@${d.source_offset} ${d.reason} (${d.original_value?.length ?? 0} bytes)`;
}

/** JSON of the documented shape (schemas/README.md): Buffers as base64 strings. */
function jsonLine(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    return Buffer.isBuffer(original) ? original.toString('base64') : v;
  });
}

export function formatRecord(what: TailWhat, value: unknown, json: boolean): string {
  if (json) return jsonLine(value);
  switch (what) {
    case 'verdicts':
      return verdictLine(value as Verdict);
    case 'actions':
      return actionLine(value as Action);
    case 'dead-letter':
      return deadLetterLine(value as DeadLetter);
  }
}

/** Runs until stopped; resolves with the exit code. */
export async function runTail(opts: TailOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const logger = createRootLogger({
    level: opts.logLevel,
    name: 'pathwatch-tail',
    destination: process.stderr,
  });
  const { kind } = TAIL_TOPICS[opts.what];
  const topic = topicNamesFromConfig(opts.connect)[TAIL_TOPICS[opts.what].topic];
  // Registry ids resolved through SCHEMA_REGISTRY_URL when set (decodeAsync fetches unknown writer schemas).
  const codec = codecFromConfig(opts.connect);
  const kafka = createKafka({
    brokers: [...opts.brokers],
    clientId: 'pathwatch-tail',
    logger,
    ...(opts.secure ? { security: kafkaSecurityFromConfig(opts.connect) } : {}),
  });
  let consumer: Consumer | undefined;
  let printed = 0;
  let caughtUp = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    finish(code);
  };
  const onSignal = (): void => stop(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The reader went away (`| head`): not an error, just the end.
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') stop(0);
    else {
      process.stderr.write(`pathwatch tail: cannot write output: ${err.message}\n`);
      stop(1);
    }
  });
  // Back-pressure: a slow reader slows the consumer; a reader that went away ends the wait (and the run).
  const write = async (line: string): Promise<void> => {
    if (stopping || out.write(`${line}\n`)) return;
    await Promise.race([new Promise((resolve) => out.once('drain', resolve)), finished]);
  };

  try {
    consumer = await kafka.consumer({
      groupId: `pathwatch-tail-${randomBytes(6).toString('hex')}`,
      topics: [topic],
      fromBeginning: opts.fromBeginning,
      sessionTimeoutMs: 10_000,
      // A fetch came back empty: the start position is resolved and every record before it was printed, so
      // anything produced from now on will be printed (what scripts and tests wait for).
      onCaughtUp: () => {
        if (caughtUp || stopping) return;
        caughtUp = true;
        process.stderr.write(`pathwatch tail: caught up with ${topic}; new records follow\n`);
      },
      onCrash: (err, restarting) => {
        if (!restarting) {
          process.stderr.write(`pathwatch tail: consumer stopped: ${err.message}\n`);
          stop(1);
        }
      },
    });
    const c = consumer;
    await c.run(async (batch, control) => {
      for (const msg of batch.messages as readonly IncomingMessage[]) {
        if (stopping || !control.isRunning()) return;
        // Position only (nothing is committed): the next fetch continues after this record.
        control.markProcessed(msg.offset);
        let value: unknown;
        try {
          value = await codec.decodeAsync(kind, msg.value);
        } catch (err) {
          process.stderr.write(
            `pathwatch tail: ${topic}[${batch.partition}]@${msg.offset} does not decode: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          continue;
        }
        await write(formatRecord(opts.what, value, opts.json));
        printed += 1;
        if (opts.max !== undefined && printed >= opts.max) {
          stop(0);
          return;
        }
      }
    });
    process.stderr.write(
      `pathwatch tail: following ${topic}${opts.fromBeginning ? ' from the beginning' : ' (new records; --from-beginning for all)'} on ${opts.brokers.join(',')}\n`,
    );
  } catch (err) {
    stop(1);
    const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
    const text = `${err instanceof Error ? err.message : String(err)} ${cause instanceof Error ? cause.message : ''}`;
    process.stderr.write(
      `pathwatch tail: ${err instanceof Error ? err.message : String(err)}${
        /does not host this topic-partition|UNKNOWN_TOPIC/i.test(text)
          ? `\n  topic ${topic} does not exist on ${opts.brokers.join(',')}: the reconciler creates it when it first starts`
          : ''
      }\n`,
    );
  }
  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await consumer?.close().catch(() => undefined);
  return code;
}
