/**
 * Compensation rules from a file, end to end: `pathwatch reconciler` started with RECONCILER_COMPENSATION_RULES_FILE
 * on the real broker, inputs produced to its topics, the actions read back with `pathwatch tail actions --json`
 * (decoded with the v2 action schema: rule_id and params). An invalid file stops the start with exit 2 and every
 * problem listed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCodec,
  type Action,
  type DispatchAttempted,
  type ProviderCallback,
  type RequestAccepted,
} from '@pathwatch/schemas';
import { kafkaBrokers, produce, uniqueName, waitFor } from '../support/kafka.js';
import { startCli, type CliProcess } from '../support/service-process.js';

const codec = createCodec();
const dir = mkdtempSync(path.join(tmpdir(), 'pathwatch-rules-'));
const running: CliProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string>): CliProcess {
  const p = startCli(args, env);
  running.push(p);
  return p;
}

const RULES = {
  rules: [
    {
      id: 'otp-resend',
      verdicts: ['overdue'],
      operation: 'otp.send',
      channel: 'sms',
      actions: [{ kind: 'resend_alternate_route', params: { route: 'backup-smpp' } }],
    },
    {
      id: 'otp-voice',
      verdicts: ['missing_outcome'],
      operation: 'otp.send',
      channel: 'sms',
      retract: false,
      actions: [
        { kind: 'fallback_channel', params: { channel: 'voice' } },
        { kind: 'alert', params: { severity: 'page', team: 'messaging' } },
      ],
    },
    { id: 'email-refund', verdicts: ['missing_outcome'], channel: 'email', actions: [{ kind: 'refund' }] },
  ],
};

let seq = 0;
function envelope(requestId: string, at: number, schemaVersion = 1) {
  seq += 1;
  return {
    event_id: `rules-${requestId}-${seq}`,
    source: '//it/rules',
    occurred_at: at,
    recorded_at: at,
    tenant_id: 'acme',
    request_id: requestId,
    schema_version: schemaVersion,
  };
}

describe('compensation rules from a file', () => {
  it(
    'a reconciler process emits the actions the file asks for, with their parameters',
    { timeout: 300_000 },
    async () => {
      const file = path.join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify(RULES, null, 2));
      const env = {
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PATHWATCH_HOME: dir,
        RECONCILER_GROUP_ID: uniqueName('rules-rc'),
        RECONCILER_CHANGELOG_TOPIC: uniqueName('rules-rc-state'),
        RECONCILER_HTTP_PORT: '0',
        RECONCILER_COMPENSATION_RULES_FILE: file,
      };
      const reconciler = start(['reconciler'], env);
      const url = await reconciler.url('health server listening');
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
        timeoutMs: 120_000,
        intervalMs: 250,
        description: 'the reconciler to be ready',
      });
      const tail = start(['tail', 'actions', '--json'], env);
      await waitFor(() => tail.stderr().includes('caught up with pathwatch.actions'), {
        timeoutMs: 60_000,
        description: 'pathwatch tail to follow the actions',
      });

      // An OTP over SMS that is dispatched and never heard of: overdue at 1 s, missing_outcome at 3 s.
      const id = uniqueName('otp');
      const t0 = Date.now();
      const req: RequestAccepted = {
        envelope: envelope(id, t0, 2),
        operation: 'otp.send',
        channel: 'sms',
        idempotency_key: null,
        input_fingerprint: `fp-${id}`,
        sla_ms: 1000,
        give_up_ms: 3000,
        api_status: 202,
        api_latency_ms: 10,
        attributes: { country: 'DE' },
      };
      const disp: DispatchAttempted = {
        envelope: envelope(id, t0 + 50),
        attempt_id: `${id}-a1`,
        attempt_no: 1,
        attempt_reason: 'initial',
        parent_attempt_id: null,
        route: 'primary-smpp',
        provider: 'p1',
        provider_message_id: `pm-${id}`,
        submit_outcome: 'accepted',
        submit_latency_ms: 20,
        error_code: null,
      };
      await produce('pathwatch.requests', [{ key: id, value: codec.encode('request', req) }]);
      await produce('pathwatch.dispatches', [{ key: id, value: codec.encode('dispatch', disp) }]);

      const mine = (): Action[] =>
        tail.stdout
          .filter((l) => l.includes(id))
          .map((l) => JSON.parse(l) as Action)
          .filter((a) => a.request_id === id);
      await waitFor(() => mine().length >= 3, {
        timeoutMs: 90_000,
        description: 'three actions for the request',
      }).catch(async (err: unknown) => {
        const m = await fetch(`${url}/metrics`).then((r) => r.text());
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}\nactions: ${JSON.stringify(mine())}\nreconciler log:\n${reconciler.stdout.slice(-15).join('\n')}\nmetrics:\n${m
            .split('\n')
            .filter((l) => /^pathwatch_(reconciler|consumer_lag|dead)/.test(l))
            .join('\n')}`,
        );
      });
      expect(mine().map((a) => [a.action_id, a.kind, a.reason, a.rule_id, a.params, a.last_route])).toEqual([
        [
          `${id}:resend_alternate_route:overdue`,
          'resend_alternate_route',
          'overdue',
          'otp-resend',
          { route: 'backup-smpp' },
          'primary-smpp',
        ],
        [
          `${id}:fallback_channel:missing_outcome`,
          'fallback_channel',
          'missing_outcome',
          'otp-voice',
          { channel: 'voice' },
          'primary-smpp',
        ],
        [
          `${id}:alert:missing_outcome`,
          'alert',
          'missing_outcome',
          'otp-voice',
          { severity: 'page', team: 'messaging' },
          'primary-smpp',
        ],
      ]);

      // The delivery arrives after all: the resend is retracted; the otp-voice actions (retract: false) are not.
      const cb: ProviderCallback = {
        envelope: envelope(id, t0 + 5000),
        provider: 'p1',
        provider_message_id: `pm-${id}`,
        provider_event_id: null,
        attempt_id: null,
        status_raw: 'DELIVRD',
        status: 'delivered',
        is_final: true,
        error_code: null,
        error_category: null,
        evidence_level: 'handset',
        provider_event_time: t0 + 5000,
        provider_sequence: null,
      };
      await produce('pathwatch.callbacks', [{ key: id, value: codec.encode('callback', cb) }]);
      await waitFor(() => mine().length >= 4, { timeoutMs: 90_000, description: 'the retraction' });
      expect(
        mine()
          .slice(3)
          .map((a) => [a.action_id, a.kind, a.retracts_action_id, a.rule_id, a.reason]),
      ).toEqual([
        [
          `${id}:resend_alternate_route:overdue:retract`,
          'retract',
          `${id}:resend_alternate_route:overdue`,
          'otp-resend',
          'delivered_late',
        ],
      ]);
      expect(await tail.stop('SIGINT')).toBe(0);
      expect(await reconciler.stop()).toBe(0);
      // Nothing else for it arrived (the email rule never matched an SMS request).
      expect(mine().filter((a) => a.kind === 'refund')).toEqual([]);
    },
  );

  it('an invalid rules file stops the start with exit 2, listing every problem', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { verdicts: ['delivered_on_time'], actions: [{ kind: 'alert' }] },
          { verdicts: ['failed'], actions: [{ kind: 'teleport' }] },
        ],
      }),
    );
    const env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      PATHWATCH_HOME: dir,
      RECONCILER_COMPENSATION_RULES_FILE: file,
      RECONCILER_HTTP_PORT: 'not-a-port',
    };
    const bad = start(['reconciler'], env);
    const missing = start(['reconciler'], {
      ...env,
      RECONCILER_COMPENSATION_RULES_FILE: path.join(dir, 'nope.json'),
    });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('RECONCILER_COMPENSATION_RULES_FILE');
    expect(bad.stderr()).toContain('rules[0].verdicts[0]: delivered_on_time needs no compensation');
    expect(bad.stderr()).toContain(
      'rules[1].actions[0].kind: must be one of resend_alternate_route, fallback_channel, refund, alert',
    );
    // ...and the other variables' problems in the same report.
    expect(bad.stderr()).toContain('RECONCILER_HTTP_PORT');
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('ENOENT');
  });
});
