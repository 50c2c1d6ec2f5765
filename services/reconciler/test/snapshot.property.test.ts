// Snapshots of the changelog (changelog.ts): the log is append-only; a snapshot exports the whole state in
// pieces, one per commit, while changes keep flowing; once it is done, the log below its start is deleted.
// Replaying the log from the start of the last finished snapshot must give the same engine as replaying all of
// it: same version sequences, same settled outcome as an uninterrupted run.
import fc from 'fast-check';
import type { Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import type { Engine, ExportCursor } from '../src/engine/index.js';
import { createEngine, EXPORT_START } from '../src/engine/index.js';
import { packChangelog, unpackInto } from '../src/changelog.js';
import { ManualClock } from './events.js';
import { lastClasses, optionsArb, resumeOps, run, scenarioArb, versionSequences } from './scenario.js';

/** The topic: per partition, packed records in append order. */
type Log = Map<number, Buffer[]>;

function append(log: Log, records: Parameters<typeof packChangelog>[0], kind: 'delta' | 'snapshot'): void {
  // A small bound so entries spread over several packed records.
  for (const m of packChangelog(records, kind, 600).messages) {
    const p = m.partition ?? 0;
    log.set(p, [...(log.get(p) ?? []), m.value as Buffer]);
  }
}

function restoreFrom(engine: Engine, log: Log, from: Map<number, number>): void {
  for (const [partition, recs] of log) {
    const fold = new Map<string, Buffer>();
    for (const r of recs.slice(from.get(partition) ?? 0)) unpackInto(r, fold);
    engine.restore(
      partition,
      [...fold].map(([key, value]) => ({ key, value })),
    );
  }
}

describe('packed changelog with snapshots', { timeout: 600_000 }, () => {
  it('restoring from the last finished snapshot equals an uninterrupted run', () => {
    fc.assert(
      fc.property(
        scenarioArb(4, true),
        optionsArb,
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        (scenario, options, crashSeed, commitEvery, snapshotEvery, piece) => {
          const opts = { ...options, correctionHorizonMs: 3_600_000, tombstoneHorizonMs: 604_800_000 };
          const ops = scenario.ops;
          const clock = new ManualClock(0);
          const set = (t: number) => (clock.t = t);

          const whole = createEngine(opts, clock);
          const wholeOut: Verdict[] = [];
          run(whole, ops, set, () => wholeOut.push(...whole.drainOutputs().verdicts));

          const crash = crashSeed % (ops.length + 1);
          const a = createEngine(opts, clock);
          const log: Log = new Map();
          const committed: Verdict[] = [];
          let committedUpTo = 0;
          let commits = 0;
          let snap: { cursor: ExportCursor; from: Map<number, number> } | undefined;
          let purgedTo = new Map<number, number>();
          run(a, ops.slice(0, crash), set, (i) => {
            if ((i + 1) % commitEvery !== 0) return;
            committed.push(...a.drainOutputs().verdicts);
            append(log, a.drainChangelog(), 'delta');
            if (snap) {
              const { records, next } = a.exportState(snap.cursor, piece);
              append(log, records, 'snapshot');
              snap.cursor = next;
              if (next.phase === 'done') {
                purgedTo = snap.from;
                snap = undefined;
              }
            } else if (++commits % snapshotEvery === 0) {
              // The log end between two commits.
              snap = {
                cursor: EXPORT_START,
                from: new Map([0, 1, 2, 3].map((p) => [p, log.get(p)?.length ?? 0])),
              };
            }
            committedUpTo = i + 1;
          });

          const restartWall = ops[Math.max(0, crash - 1)]?.wall ?? 0;
          clock.t = restartWall;
          const b = createEngine(opts, clock);
          restoreFrom(b, log, purgedTo);
          const after: Verdict[] = [];
          run(b, resumeOps(ops, committedUpTo, restartWall), set, () =>
            after.push(...b.drainOutputs().verdicts),
          );

          for (const [, versions] of versionSequences([...committed, ...after]))
            expect(versions).toEqual(versions.map((_, i) => i + 1));
          expect(lastClasses([...committed, ...after], scenario.requestIds)).toEqual(
            lastClasses(wholeOut, scenario.requestIds),
          );
        },
      ),
      {
        numRuns: Number(process.env['PW_FC_RUNS'] ?? 300),
        ...(process.env['PW_SEED'] ? { seed: Number(process.env['PW_SEED']) } : {}),
      },
    );
  });
});

describe('packChangelog / unpackInto', () => {
  it('round-trips entries per partition in order, deletions included, under the size bound', () => {
    const records = [
      { partition: 0, key: 'a', value: Buffer.from('one') },
      { partition: 1, key: 'b', value: Buffer.alloc(300, 1) },
      { partition: 0, key: 'a', value: Buffer.from('two') },
      { partition: 0, key: '\u0000meta', value: Buffer.alloc(200, 2) },
      { partition: 0, key: 'c', value: Buffer.alloc(0) },
      { partition: 0, key: 'a', value: null },
      { partition: 1, key: 'é', value: Buffer.alloc(300, 3) },
    ];
    const { messages, bytes } = packChangelog(records, 'delta', 400);
    expect(bytes).toBe(messages.reduce((n, m) => n + (m.value?.length ?? 0), 0));
    for (const m of messages) expect(m.value!.length).toBeLessThanOrEqual(400);
    expect(messages.filter((m) => m.partition === 1)).toHaveLength(2);
    const folds = new Map<number, Map<string, Buffer>>();
    for (const m of messages) {
      const f = folds.get(m.partition!) ?? new Map<string, Buffer>();
      folds.set(m.partition!, f);
      expect(unpackInto(m.value!, f)).toBe('delta');
    }
    expect([...folds.get(0)!.keys()].sort()).toEqual(['\u0000meta', 'c']);
    expect(folds.get(0)!.get('c')!.length).toBe(0);
    expect(folds.get(1)!.get('é')).toEqual(Buffer.alloc(300, 3));
  });

  it('rejects bytes that are not a packed record', () => {
    expect(() => unpackInto(Buffer.from('{"json":true}'), new Map())).toThrow(
      /not a packed changelog record/,
    );
    const { messages } = packChangelog([{ partition: 0, key: 'k', value: Buffer.alloc(50) }], 'snapshot');
    expect(() => unpackInto(messages[0]!.value!.subarray(0, 20), new Map())).toThrow(/truncated/);
  });
});
