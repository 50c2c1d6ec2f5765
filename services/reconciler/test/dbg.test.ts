import fc from 'fast-check';
import { it } from 'vitest';
import { writeSync } from 'node:fs';
import type { Verdict } from '@pathwatch/schemas';
import { createEngine } from '../src/engine/index.js';
import { optionsArb, run, scenarioArb } from './scenario.js';
import { ManualClock } from './events.js';
const log = (...a: unknown[]) => writeSync(2, a.join(' ') + '\n');
it('dbg', () => {
  const [[scenario, options]] = fc.sample(fc.tuple(scenarioArb(4, true), optionsArb), { seed: -1758924441, path: '26', numRuns: 1 }) as unknown as [[ReturnType<typeof scenarioArb> extends fc.Arbitrary<infer S> ? S : never, Parameters<typeof createEngine>[0]]];
  const opts = { ...options, correctionHorizonMs: 3_600_000, tombstoneHorizonMs: 604_800_000, recoveryReleasePerSec: 50 };
  log(JSON.stringify(opts));
  for (const op of scenario.ops) log(op.kind, op.wall - 1750000000000, op.kind !== 'tick' ? JSON.stringify({p: op.partition, rid: op.ev.envelope.request_id, t: op.ev.envelope.occurred_at - 1750000000000, ...(op.kind === 'callback' ? {s: op.ev.status, f: op.ev.is_final, pmid: op.ev.provider_message_id, ev: op.ev.evidence_level} : {}), ...(op.kind === 'dispatch' ? {pmid: op.ev.provider_message_id, sub: op.ev.submit_outcome} : {}), ...(op.kind === 'request' ? {sla: op.ev.sla_ms, g: op.ev.give_up_ms, api: op.ev.api_status} : {})}) : '');
  const clock = new ManualClock(0);
  const whole = createEngine(opts, clock);
  const out: Verdict[] = [];
  run(whole, scenario.ops, (t) => (clock.t = t), () => out.push(...whole.drainOutputs().verdicts));
  for (const x of out) log(x.request_id, x.version, x.verdict, x.flags.join(','), x.decided_at - 1750000000000, x.fired_by);
});
