/**
 * `pathwatch tail` against the real broker, as a separate process: decoded records, one line each, only data on
 * stdout; undecodable records reported on stderr; follows new records; ends cleanly (exit 0) on SIGINT and when
 * the reader closes the pipe; usage errors exit 2 before connecting.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec, type Action, type DeadLetter } from '@pathwatch/schemas';
import { kafkaBrokers, produce, testKafka, waitFor } from '../support/kafka.js';
import { startCli, type CliProcess } from '../support/service-process.js';

const codec = createCodec();
const running: CliProcess[] = [];
beforeAll(async () => {
  // The topics the reconciler creates at its first start (a fresh broker has none).
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const have = new Set(await admin.listTopics());
    const missing = ['pathwatch.actions', 'pathwatch.dead-letter'].filter((t) => !have.has(t));
    if (missing.length > 0)
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })),
        waitForLeaders: true,
      });
  } finally {
    await admin.disconnect();
  }
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
});

function tail(args: string[]): CliProcess {
  const p = startCli(['tail', ...args], {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    PATHWATCH_HOME: '/nonexistent',
  });
  running.push(p);
  return p;
}

async function following(p: CliProcess, topic: string): Promise<void> {
  await waitFor(() => p.stderr().includes(`caught up with ${topic}`), {
    timeoutMs: 60_000,
    description: `pathwatch tail to follow ${topic}`,
  });
}

function action(id: string): Action {
  return {
    action_id: `${id}:alert:missing_outcome`,
    request_id: id,
    tenant_id: 'tenant-a',
    kind: 'alert',
    reason: 'missing_outcome',
    retracts_action_id: null,
    verdict_id: `${id}:v2`,
    verdict_version: 2,
    provisional: false,
    created_at: Date.now() - 1000,
    operation: 'otp.send',
    channel: 'sms',
    last_provider: 'relaycom',
    last_route: 'relaycom/eu-direct',
    rule_id: 'otp-alert',
    params: { severity: 'page' },
  };
}

describe('pathwatch tail', () => {
  it('prints new actions as JSON lines, skips undecodable records on stderr, stops on SIGINT', async () => {
    const p = tail(['actions', '--json']);
    await following(p, 'pathwatch.actions');
    const id = `req-tail-${randomBytes(4).toString('hex')}`;
    const a = action(id);
    await produce('pathwatch.actions', [
      { key: id, value: Buffer.from('garbage that is not a record') },
      { key: id, value: codec.encode('action', a) },
      {
        key: id,
        value: codec.encode('action', { ...a, action_id: `${id}:x`, kind: 'refund' }, { format: 'json' }),
      },
    ]);
    await waitFor(() => p.stdout.filter((l) => l.includes(id)).length >= 2, {
      timeoutMs: 60_000,
      description: 'both actions on stdout',
    });
    const mine = p.stdout.filter((l) => l.includes(id)).map((l) => JSON.parse(l) as Action);
    // The documented JSON shape, whatever the wire format was (Avro, then JSON).
    expect(mine[0]).toEqual(a);
    expect(mine[1]).toMatchObject({ action_id: `${id}:x`, kind: 'refund' });
    // Nothing but records on stdout: every line is a JSON object.
    for (const l of p.stdout) expect(() => JSON.parse(l) as unknown).not.toThrow();
    expect(p.stderr()).toMatch(/pathwatch\.actions\[\d+\]@\d+ does not decode/);
    expect(await p.stop('SIGINT')).toBe(0);
  });

  it('prints dead letters in the human format, from the beginning, and ends when the reader closes the pipe', async () => {
    const id = randomBytes(4).toString('hex');
    const dl: DeadLetter = {
      stage: 'reconciler.decode',
      reason_code: `IT_TAIL_${id}`,
      reason: 'test record',
      source_topic: 'pathwatch.requests',
      source_partition: 3,
      source_offset: '42',
      source_key: Buffer.from('k'),
      original_value: Buffer.from([1, 2, 3]),
      original_headers: {},
      failed_at: Date.now(),
    };
    await produce('pathwatch.dead-letter', [{ key: 'k', value: codec.encode('dead_letter', dl) }]);
    const p = tail(['dead-letter', '--from-beginning']);
    const line = await waitFor(() => p.stdout.find((l) => l.includes(`IT_TAIL_${id}`)), {
      timeoutMs: 60_000,
      description: 'the dead letter on stdout',
    });
    expect(line).toContain('reconciler.decode');
    expect(line).toContain('pathwatch.requests[3]@42');
    expect(line).toContain('(3 bytes)');
    // `| head -1`: the reader goes away; the next write fails with EPIPE and tail exits 0.
    p.child.stdout.destroy();
    await produce('pathwatch.dead-letter', [{ key: 'k', value: codec.encode('dead_letter', dl) }]);
    expect(await p.exited).toBe(0);
  });

  it('--max ends after that many records', async () => {
    const id = `req-max-${randomBytes(4).toString('hex')}`;
    const p = tail(['actions', '--json', '--max', '2']);
    await following(p, 'pathwatch.actions');
    await produce(
      'pathwatch.actions',
      [1, 2, 3].map((n) => ({
        key: id,
        value: codec.encode('action', { ...action(id), action_id: `${id}:${n}` }),
      })),
    );
    expect(await p.exited).toBe(0);
    expect(p.stdout.filter((l) => l.trim() !== '')).toHaveLength(2);
  });

  it('usage errors exit 2 naming the problem, before connecting', { timeout: 300_000 }, async () => {
    const cases: [string[], string][] = [
      [['nope'], 'unknown topic'],
      [['verdicts', '--bogus'], "Unknown option '--bogus'"],
      [['verdicts', '--max', '0'], '--max must be a positive integer'],
      [['verdicts', 'actions'], 'expected one of verdicts'],
      [[], 'expected one of verdicts'],
    ];
    // One process per case, all at once (each loads the CLI from its sources).
    await Promise.all(
      cases.map(async ([args, message]) => {
        const p = tail(args);
        expect(await p.exited, args.join(' ')).toBe(2);
        expect(p.stderr()).toContain(message);
        expect(p.stdout.filter((l) => l !== '')).toEqual([]);
      }),
    );
  });
});
