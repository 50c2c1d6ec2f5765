// Time-series charts with uPlot (MIT, ~50 kB, canvas): one wrapper so every page's charts look alike.
import uPlot from 'uplot';
import { h } from './dom.js';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  /** Draw as bars (counts per bucket) instead of a line. */
  bars?: boolean;
  dash?: number[];
}

const PALETTE = {
  accepted: '#2f6fde',
  executed: '#7b4fd6',
  ok: '#1f9d55',
  late: '#e3a008',
  failed: '#d64545',
  missing: '#8a8a8a',
  overdue: '#e07b39',
  sla: '#d64545',
} as const;
export const COLORS = PALETTE;

const charts = new Set<uPlot>();

/** Destroys every chart (page change). */
export function destroyCharts(): void {
  for (const c of charts) c.destroy();
  charts.clear();
}

/**
 * A chart of `series` over `xsMs` (epoch ms, bucket starts) in a new panel element. `yFormat` formats the
 * axis and legend values.
 */
export function timeChart(
  title: string,
  testid: string,
  xsMs: number[],
  series: Series[],
  yFormat: (v: number | null) => string = (v) => (v === null ? '–' : String(Math.round(v))),
): HTMLElement {
  const holder = h('div', { class: 'chart', testid });
  const panel = h('div', { class: 'chart-panel' }, h('h3', {}, title), holder);
  if (xsMs.length === 0) {
    holder.append(h('p', { class: 'empty' }, 'No data in this window.'));
    return panel;
  }
  // Rendered once the panel is in the document (uPlot measures nothing, but the width is the panel's).
  requestAnimationFrame(() => {
    if (!holder.isConnected) return;
    const width = Math.max(320, holder.clientWidth || 600);
    const opts: uPlot.Options = {
      width,
      height: 220,
      scales: { x: { time: true } },
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' } },
        {
          stroke: '#555',
          grid: { stroke: '#eee' },
          size: 70,
          values: (_u, vals) => vals.map((v) => yFormat(v)),
        },
      ],
      series: [
        {
          label: 'time',
          value: (_u, v) =>
            v === null ? '–' : `${new Date(v * 1000).toISOString().slice(0, 16).replace('T', ' ')}Z`,
        },
        ...series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 2,
          ...(s.bars ? { fill: `${s.color}aa`, paths: uPlot.paths.bars?.({ size: [0.7, 40] }) } : {}),
          ...(s.dash ? { dash: s.dash } : {}),
          value: (_u, v) => yFormat(v),
          points: { show: xsMs.length < 3 },
        })),
      ],
      legend: { live: true },
    };
    const data: uPlot.AlignedData = [xsMs.map((x) => x / 1000), ...series.map((s) => s.values)];
    charts.add(new uPlot(opts, data, holder));
  });
  return panel;
}
