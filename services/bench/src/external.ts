// Rendering what a benchmark returns (benchEngine, benchStore): flat objects and arrays become tables, named figures
// are read defensively, so a result that grows does not break the report.
import type { Table } from './report.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalar(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return JSON.stringify(v);
}

/** Arrays of flat objects become tables; scalar fields become one key/value table. Nested one level deep. */
export function tablesFromUnknown(value: unknown, title: string): Table[] {
  const tables: Table[] = [];
  const rowsOf = (arr: readonly unknown[], t: string): void => {
    const objs = arr.filter(isPlainObject);
    if (objs.length === 0) return;
    const headers = [...new Set(objs.flatMap((o) => Object.keys(o)))];
    tables.push({ title: t, headers, rows: objs.map((o) => headers.map((h) => scalar(o[h]))) });
  };
  if (Array.isArray(value)) rowsOf(value, title);
  else if (isPlainObject(value)) {
    const kv: [string, string | number | null][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v)) rowsOf(v, `${title}: ${k}`);
      else if (isPlainObject(v))
        for (const [k2, v2] of Object.entries(v)) kv.push([`${k}.${k2}`, scalar(v2)]);
      else kv.push([k, scalar(v)]);
    }
    if (kv.length > 0) tables.unshift({ title, headers: ['figure', 'value'], rows: kv });
  } else if (value !== undefined) {
    tables.push({ title, headers: ['value'], rows: [[scalar(value)]] });
  }
  return tables;
}

/** The first finite number found under any of `names` (top level, then one level down). */
export function figure(value: unknown, names: readonly string[]): number | null {
  if (!isPlainObject(value)) return null;
  for (const n of names) {
    const v = value[n];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  for (const v of Object.values(value)) {
    if (!isPlainObject(v)) continue;
    for (const n of names) {
      const x = v[n];
      if (typeof x === 'number' && Number.isFinite(x)) return x;
    }
  }
  return null;
}
