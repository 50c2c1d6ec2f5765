// Pipeline health: input rate, consumer lag, watermark lag and idle inputs, dead letters by reason and
// corrections — live metrics of the serving process plus the store's per-bucket view, from /v1/pipeline,
// polled every 10 s (backing off to 60 s while it fails).
import { apiGet, poll } from '../api.js';
import { COLORS, destroyCharts, timeChart } from '../charts.js';
import { card, clear, fmtInt, fmtMs, fmtTime, h, section, table } from '../dom.js';
import { filtersOf, windowOf, type Route } from '../state.js';
import type { Labelled, PipelineResult } from '../types.js';
import { showError } from '../view.js';

const WEEK = 7 * 86_400_000;
const sum = (xs: Labelled[]): number => xs.reduce((a, x) => a + (x.value ?? 0), 0);
/** Rows by the given labels (then partition numerically), so tables do not reorder between polls. */
const sorted = (xs: Labelled[], first: string): Labelled[] =>
  [...xs].sort(
    (a, b) =>
      String(a[first]).localeCompare(String(b[first])) ||
      Number(a['partition'] ?? 0) - Number(b['partition'] ?? 0),
  );

export function renderPipeline(root: HTMLElement, r: Route): Promise<() => void> {
  const w = windowOf(r, '1h', WEEK);
  const status = h('p', { class: 'status', testid: 'poll-status' }, 'loading…');
  const body = h('div', {});
  clear(root, section('Pipeline health', status, body));
  let prev: { at: number; inputs: number } | undefined;
  let first = true;
  return new Promise((resolve) => {
    const stop = poll(
      async () => {
        try {
          const res = await apiGet<PipelineResult>('/v1/pipeline', {
            from: w.from,
            to: w.to,
            ...filtersOf(r),
          });
          const live = res.live;
          // The reconciler's input (requests, dispatches, callbacks); the path writer's input is its output.
          const inputs = sum(live.events_in.filter((x) => x['stage'] === 'reconciler.decode'));
          const rate =
            prev && live.sampled_at_ms > prev.at
              ? ((inputs - prev.inputs) * 1000) / (live.sampled_at_ms - prev.at)
              : null;
          prev = { at: live.sampled_at_ms, inputs };
          const lag = sum(live.consumer_lag);
          const idle = live.input_idle.filter((x) => x.value === 1).length;
          const dead = sum(live.dead_letters);
          const corrections = res.buckets.reduce((a, b) => a + b.corrections, 0);
          const versions = res.buckets.reduce((a, b) => a + b.versions, 0);
          const accepted = res.buckets.reduce((a, b) => a + b.accepted, 0);
          const wallClock = res.buckets.reduce((a, b) => a + b.fired_by.wall_clock, 0);
          const maxWm = Math.max(0, ...res.buckets.map((b) => b.watermark_lag_max_ms ?? 0));
          const xs = res.buckets.map((b) => b.bucket_start_ms);
          const per = res.step_s === 60 ? 'minute' : 'hour';
          destroyCharts();
          clear(
            body,
            h(
              'div',
              { class: 'cards' },
              card(
                'input rate',
                rate === null ? '–' : `${rate.toFixed(1)}/s`,
                'live-input-rate',
                `reconciler input, between the last two polls`,
              ),
              card(
                'inputs consumed',
                fmtInt(inputs),
                'live-inputs',
                'requests, dispatches and callbacks since this process started',
              ),
              card(
                'consumer lag',
                live.reconciler_in_process ? fmtInt(lag) : 'n/a',
                'live-consumer-lag',
                'records behind the high watermark',
                lag > 0 ? 'warn' : undefined,
              ),
              card(
                'watermark lag',
                fmtMs(live.clock_lag_ms),
                'live-clock-lag',
                live.clock_wall_clock
                  ? 'every input idle: clock follows wall time'
                  : 'event-time clock behind wall time',
              ),
              card(
                'idle inputs',
                live.reconciler_in_process ? `${idle} of ${live.input_idle.length}` : 'n/a',
                'live-idle-inputs',
              ),
              card(
                'dead letters',
                fmtInt(dead),
                'live-dead-letters',
                'since this process started',
                dead > 0 ? 'bad' : undefined,
              ),
              card(
                'corrections',
                fmtInt(corrections),
                'store-corrections',
                'final verdicts changed by late evidence (window)',
                corrections > 0 ? 'warn' : undefined,
              ),
              card('accepted', fmtInt(accepted), 'store-accepted', 'requests in the store (window)'),
              card(
                'verdict versions',
                fmtInt(versions),
                'store-versions',
                `${fmtInt(wallClock)} fired by the wall clock; max watermark lag ${fmtMs(maxWm)}`,
              ),
              live.writer_in_process
                ? card(
                    'writer buffer',
                    fmtInt(live.writer_buffered_rows),
                    'live-writer-buffer',
                    live.writer_paused ? 'paused (inserts failing)' : 'rows waiting for insert',
                    live.writer_paused ? 'bad' : undefined,
                  )
                : null,
            ),
            live.reconciler_in_process
              ? null
              : h(
                  'p',
                  { class: 'note', testid: 'live-absent' },
                  'The reconciler does not run in this process: consumer lag and input watermarks are on its own /metrics. Store figures below are complete.',
                ),
            h(
              'div',
              { class: 'charts' },
              timeChart(
                `Input: requests accepted and verdict versions emitted per ${per}`,
                'chart-rate',
                xs,
                [
                  { label: 'accepted', values: res.buckets.map((b) => b.accepted), color: COLORS.accepted },
                  { label: 'versions', values: res.buckets.map((b) => b.versions), color: COLORS.executed },
                ],
              ),
              timeChart(
                'Watermark lag when verdicts were decided',
                'chart-watermark',
                xs,
                [
                  {
                    label: 'average',
                    values: res.buckets.map((b) => b.watermark_lag_avg_ms),
                    color: COLORS.accepted,
                  },
                  {
                    label: 'max',
                    values: res.buckets.map((b) => b.watermark_lag_max_ms),
                    color: COLORS.overdue,
                  },
                ],
                (v) => fmtMs(v),
              ),
              timeChart(
                `Corrections and wall-clock decisions (idle inputs) per ${per}`,
                'chart-corrections',
                xs,
                [
                  {
                    label: 'corrections',
                    values: res.buckets.map((b) => b.corrections),
                    color: COLORS.failed,
                  },
                  {
                    label: 'fired by wall clock',
                    values: res.buckets.map((b) => b.fired_by.wall_clock),
                    color: COLORS.missing,
                  },
                ],
              ),
            ),
            h(
              'div',
              { class: 'tables' },
              section(
                'Dead letters by reason',
                live.dead_letters.length === 0
                  ? h(
                      'p',
                      { class: 'empty', testid: 'dead-letters-empty' },
                      'None since this process started.',
                    )
                  : table(
                      ['stage', 'reason', 'records'],
                      live.dead_letters.map((d) => [
                        String(d['stage']),
                        String(d['reason_code']),
                        fmtInt(d.value),
                      ]),
                      'dead-letters',
                    ),
              ),
              section(
                'Inputs (engine input = topic kind × partition)',
                live.input_idle.length === 0
                  ? h('p', { class: 'empty' }, 'No input seen by a reconciler in this process.')
                  : table(
                      ['input', 'partition', 'watermark lag', 'idle'],
                      sorted(live.input_idle, 'kind').map((i) => {
                        const wm = live.input_watermark_lag_ms.find(
                          (x) => x['kind'] === i['kind'] && x['partition'] === i['partition'],
                        );
                        return [
                          String(i['kind']),
                          String(i['partition']),
                          fmtMs(wm?.value ?? null),
                          i.value === 1 ? 'idle' : 'active',
                        ];
                      }),
                      'inputs',
                    ),
              ),
              section(
                'Consumer lag by partition',
                live.consumer_lag.length === 0
                  ? h('p', { class: 'empty' }, 'No lag reported yet.')
                  : table(
                      ['topic', 'partition', 'records behind'],
                      sorted(live.consumer_lag, 'topic').map((l) => [
                        String(l['topic']),
                        String(l['partition']),
                        fmtInt(l.value),
                      ]),
                      'consumer-lag',
                    ),
              ),
            ),
          );
        } catch (err) {
          showError(body, err);
          throw err;
        } finally {
          if (first) {
            first = false;
            resolve(stop);
          }
        }
      },
      10_000,
      60_000,
      (next, failed) => {
        status.textContent = `${failed ? 'failed; ' : ''}updated ${fmtTime(Date.now())}, next in ${Math.round(next / 1000)} s`;
      },
    );
  });
}
