/**
 * The Native encoder against a small reference decoder: for arbitrary verdicts (fast-check), the block carries
 * PATH_INSERT_COLUMNS in order with the declared types, and every value reads back as the verdict had it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttemptSummary, Hop, Verdict } from '@pathwatch/schemas';
import {
  ATTEMPT_REASONS,
  CALLBACK_STATUSES,
  CLOCK_SOURCES,
  EVIDENCE_LEVELS,
  SUBMIT_OUTCOMES,
  VERDICT_CLASSES,
} from '@pathwatch/schemas';
import { PATH_INSERT_COLUMNS, encodePathRows, pathAnchorMs, storeRowProblem } from './path-encoding.js';

/** Reference reader for the subset of the Native format the encoder writes. */
class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  varUInt(): number {
    let x = 0;
    let shift = 1;
    for (;;) {
      const byte = this.b[this.pos++] as number;
      x += (byte & 0x7f) * shift;
      if (byte < 0x80) return x;
      shift *= 128;
    }
  }
  str(): string {
    const n = this.varUInt();
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  scalar(type: string): unknown {
    switch (type) {
      case 'String':
        return this.str();
      case 'Bool':
        return this.b[this.pos++] === 1;
      case 'UInt16':
        return ((this.pos += 2), this.b.readUInt16LE(this.pos - 2));
      case 'UInt32':
        return ((this.pos += 4), this.b.readUInt32LE(this.pos - 4));
      default: // Int64, DateTime64(3, 'UTC')
        return ((this.pos += 8), Number(this.b.readBigInt64LE(this.pos - 8)));
    }
  }
  column(type: string, rows: number): unknown[] {
    const nullable = /^Nullable\((.*)\)$/.exec(type);
    if (nullable) {
      const nulls = Array.from({ length: rows }, () => this.b[this.pos++] === 1);
      const values = this.column(nullable[1] as string, rows);
      return values.map((v, i) => (nulls[i] ? null : v));
    }
    const array = /^Array\((.*)\)$/.exec(type);
    const map = /^Map\(String, String\)$/.exec(type);
    if (array || map) {
      const ends = Array.from({ length: rows }, () => this.scalar('Int64') as number);
      const total = ends[ends.length - 1] ?? 0;
      const slice = (xs: unknown[]): unknown[][] =>
        ends.map((e, i) => xs.slice(i === 0 ? 0 : (ends[i - 1] as number), e));
      if (array) return slice(this.column(array[1] as string, total));
      const keys = slice(this.column('String', total));
      const values = slice(this.column('String', total));
      return keys.map((ks, i): Record<string, unknown> =>
        Object.fromEntries(ks.map((k, j): [string, unknown] => [String(k), (values[i] as unknown[])[j]])),
      );
    }
    return Array.from({ length: rows }, () => this.scalar(type));
  }
}

function decode(block: Buffer): {
  columns: { name: string; type: string; values: unknown[] }[];
  rows: number;
} {
  const r = new Reader(block);
  const ncols = r.varUInt();
  const rows = r.varUInt();
  const columns = [];
  for (let c = 0; c < ncols; c++) {
    const name = r.str();
    const type = r.str();
    columns.push({ name, type, values: r.column(type, rows) });
  }
  expect(r.pos).toBe(block.length);
  return { columns, rows };
}

const ts = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const nullableTs = fc.option(ts, { nil: null });
const attempt: fc.Arbitrary<AttemptSummary> = fc.record({
  attempt_id: text,
  attempt_no: fc.integer({ min: 0, max: 65_535 }),
  reason: fc.constantFrom(...ATTEMPT_REASONS),
  route: text,
  provider: text,
  provider_message_id: fc.option(text, { nil: null }),
  submit_outcome: fc.constantFrom(...SUBMIT_OUTCOMES),
  dispatched_at: ts,
  last_status: fc.option(fc.constantFrom(...CALLBACK_STATUSES), { nil: null }),
  last_status_at: nullableTs,
});
const hop: fc.Arbitrary<Hop> = fc.record({
  kind: fc.constantFrom('accepted', 'dispatch', 'callback', 'verdict'),
  at: ts,
  detail: text,
});
const verdict: fc.Arbitrary<Verdict> = fc.record({
  verdict_id: text,
  request_id: text,
  tenant_id: text,
  version: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  verdict: fc.constantFrom(...VERDICT_CLASSES),
  provisional: fc.boolean(),
  is_correction: fc.boolean(),
  previous_verdict: fc.option(fc.constantFrom(...VERDICT_CLASSES), { nil: null }),
  error_category: fc.option(text, { nil: null }),
  error_code: fc.option(text, { nil: null }),
  flags: fc.array(text, { maxLength: 4 }),
  api_ok: fc.boolean(),
  execution_ok: fc.option(fc.boolean(), { nil: null }),
  outcome_ok: fc.option(fc.boolean(), { nil: null }),
  fired_by: fc.constantFrom(...CLOCK_SOURCES),
  watermark_lag_ms: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  decided_at: ts,
  emitted_at: ts,
  operation: text,
  channel: text,
  input_fingerprint: text,
  attributes: fc.dictionary(text, text, { maxKeys: 4 }),
  accepted_at: nullableTs,
  sla_ms: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  give_up_ms: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  first_dispatch_at: nullableTs,
  provider_accepted_at: nullableTs,
  final_at: nullableTs,
  evidence_level: fc.constantFrom(...EVIDENCE_LEVELS),
  callbacks: fc.nat({ max: 1000 }),
  duplicate_callbacks: fc.nat({ max: 1000 }),
  attempts: fc.array(attempt, { maxLength: 3 }),
  hops: fc.array(hop, { maxLength: 5 }),
  revision_kind: fc.constantFrom(
    'initial' as const,
    'progress' as const,
    'correction' as const,
    'revision' as const,
    null,
  ),
  evidence_at: nullableTs,
  clock_skew_ms: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null }),
});

/** What each column must hold for a verdict (the table's view of it). */
function expected(v: Verdict): Record<string, unknown> {
  const col = <K extends keyof AttemptSummary>(k: K): unknown[] => v.attempts.map((a) => a[k]);
  return {
    tenant_id: v.tenant_id,
    request_id: v.request_id,
    path_at: pathAnchorMs(v),
    version: v.version,
    verdict_id: v.verdict_id,
    verdict: v.verdict,
    provisional: v.provisional,
    is_correction: v.is_correction,
    previous_verdict: v.previous_verdict ?? '',
    error_category: v.error_category ?? '',
    error_code: v.error_code ?? '',
    flags: v.flags,
    api_ok: v.api_ok,
    execution_ok: v.execution_ok,
    outcome_ok: v.outcome_ok,
    fired_by: v.fired_by,
    watermark_lag_ms: v.watermark_lag_ms,
    decided_at: v.decided_at,
    emitted_at: v.emitted_at,
    operation: v.operation,
    channel: v.channel,
    input_fingerprint: v.input_fingerprint,
    attributes: v.attributes,
    accepted_at: v.accepted_at,
    sla_ms: v.sla_ms,
    give_up_ms: v.give_up_ms,
    first_dispatch_at: v.first_dispatch_at,
    provider_accepted_at: v.provider_accepted_at,
    final_at: v.final_at,
    evidence_level: v.evidence_level,
    callbacks: v.callbacks,
    duplicate_callbacks: v.duplicate_callbacks,
    'attempts.attempt_id': col('attempt_id'),
    'attempts.attempt_no': col('attempt_no'),
    'attempts.reason': col('reason'),
    'attempts.route': col('route'),
    'attempts.provider': col('provider'),
    'attempts.provider_message_id': col('provider_message_id'),
    'attempts.submit_outcome': col('submit_outcome'),
    'attempts.dispatched_at': col('dispatched_at'),
    'attempts.last_status': col('last_status'),
    'attempts.last_status_at': col('last_status_at'),
    'hops.kind': v.hops.map((h) => h.kind),
    'hops.at': v.hops.map((h) => h.at),
    'hops.detail': v.hops.map((h) => h.detail),
    revision_kind: v.revision_kind ?? '',
    evidence_at: v.evidence_at,
    clock_skew_ms: v.clock_skew_ms,
  };
}

describe('Native path block encoder', () => {
  it('writes every column in PATH_INSERT_COLUMNS order, and every value reads back', () => {
    fc.assert(
      fc.property(fc.array(verdict, { maxLength: 25 }), (vs) => {
        const block = decode(encodePathRows(vs));
        expect(block.rows).toBe(vs.length);
        expect(block.columns.map((c) => c.name)).toEqual(PATH_INSERT_COLUMNS);
        for (const c of block.columns) {
          expect(c.values, c.name).toEqual(vs.map((v) => expected(v)[c.name]));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('accepts every generated verdict and names the field of an unstorable one', () => {
    fc.assert(fc.property(verdict, (v) => storeRowProblem(v) === null));
    const base = fc.sample(verdict, { numRuns: 1, seed: 1 })[0] as Verdict;
    expect(storeRowProblem({ ...base, decided_at: Date.UTC(2300, 0, 1) })).toMatch(/^decided_at /);
    expect(storeRowProblem({ ...base, version: 0 })).toMatch(/^version 0/);
    expect(storeRowProblem({ ...base, sla_ms: -1 })).toMatch(/^sla_ms -1/);
    expect(storeRowProblem({ ...base, watermark_lag_ms: 0.5 })).toMatch(/^watermark_lag_ms/);
  });

  it('anchors a path at accepted_at, or for orphans at the earliest evidence', () => {
    const base = fc.sample(verdict, { numRuns: 1, seed: 2 })[0] as Verdict;
    expect(pathAnchorMs({ ...base, accepted_at: 5_000 })).toBe(5_000);
    expect(
      pathAnchorMs({
        ...base,
        accepted_at: null,
        first_dispatch_at: 9_000,
        attempts: [],
        final_at: 8_000,
        hops: [{ kind: 'callback', at: 7_000, detail: '' }],
      }),
    ).toBe(7_000);
  });
});
