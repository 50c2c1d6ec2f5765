import { describe, expect, it } from 'vitest';
import { BenchError } from '../src/errors.js';
import {
  BENCHMARKS_HEADER,
  judge,
  markdownTable,
  renderMarkdown,
  rewriteSection,
  sectionMarkers,
  textTable,
} from '../src/report.js';
import type { SuiteReport } from '../src/report.js';

const { start: RS, end: RE } = sectionMarkers('reconciler');
const { start: SS, end: SE } = sectionMarkers('store');

describe('rewriteSection', () => {
  it('creates the document with the header when it is empty', () => {
    const doc = rewriteSection('', 'reconciler', 'figures A');
    expect(doc.startsWith(BENCHMARKS_HEADER.trimEnd())).toBe(true);
    expect(doc).toContain(`${RS}\nfigures A\n${RE}\n`);
  });

  it('replaces only its own section and keeps everything else byte for byte', () => {
    const before = `# Benchmarks\n\nintro\n\n${RS}\nold reconciler\n${RE}\n\nhand-written text\n\n${SS}\nstore figures\n${SE}\n`;
    const after = rewriteSection(before, 'reconciler', 'new reconciler\n| a | b |');
    expect(after).toBe(
      `# Benchmarks\n\nintro\n\n${RS}\nnew reconciler\n| a | b |\n${RE}\n\nhand-written text\n\n${SS}\nstore figures\n${SE}\n`,
    );
  });

  it('is idempotent: the same body twice gives the same document', () => {
    const once = rewriteSection('# B\n', 'store', 'x');
    expect(rewriteSection(once, 'store', 'x')).toBe(once);
  });

  it('appends a new section after the existing ones', () => {
    const doc = rewriteSection(rewriteSection('', 'codec', 'c'), 'store', 's');
    expect(doc.indexOf(sectionMarkers('codec').start)).toBeLessThan(doc.indexOf(SS));
    expect(doc.endsWith(`${SE}\n`)).toBe(true);
  });

  it('does not treat another suite with a similar name as its own', () => {
    const doc = `${sectionMarkers('reconciler-old').start}\nkeep\n${sectionMarkers('reconciler-old').end}\n`;
    const after = rewriteSection(doc, 'reconciler', 'new');
    expect(after).toContain('keep');
    expect(after).toContain(`${RS}\nnew\n${RE}`);
  });

  it.each([
    ['only a start marker', `${RS}\nhalf`],
    ['only an end marker', `half\n${RE}`],
    ['end before start', `${RE}\nx\n${RS}`],
    ['a repeated section', `${RS}\na\n${RE}\n${RS}\nb\n${RE}`],
  ])('refuses to guess with %s', (_name, doc) => {
    expect(() => rewriteSection(doc, 'reconciler', 'new')).toThrow(BenchError);
    try {
      rewriteSection(doc, 'reconciler', 'new');
    } catch (err) {
      expect((err as BenchError).code).toBe('BENCH_REPORT_MARKERS');
    }
  });
});

describe('judge', () => {
  it('passes and misses in both directions, with the signed gap', () => {
    expect(judge({ name: 't', kind: 'atLeast', goal: 500_000, unit: 'events/s', measured: 420_000 })).toEqual(
      {
        status: 'MISS',
        gap: '-80,000 events/s (-16%)',
      },
    );
    expect(judge({ name: 't', kind: 'atLeast', goal: 100, unit: '%', measured: 150 })).toEqual({
      status: 'pass',
      gap: '+50 % (+50%)',
    });
    expect(judge({ name: 't', kind: 'atMost', goal: 1000, unit: 'ms', measured: 1300 })).toEqual({
      status: 'MISS',
      gap: '+300 ms (+30%)',
    });
    expect(judge({ name: 't', kind: 'atMost', goal: 256, unit: 'B', measured: 200 }).status).toBe('pass');
    expect(judge({ name: 't', kind: 'atMost', goal: 256, unit: 'B', measured: 256 }).status).toBe('pass');
  });

  it('says not available instead of inventing a figure', () => {
    expect(judge({ name: 't', kind: 'atMost', goal: 1, unit: 'ms', measured: null })).toEqual({
      status: 'not available',
      gap: '—',
    });
    expect(judge({ name: 't', kind: 'atMost', goal: 1, unit: 'ms', measured: NaN }).status).toBe(
      'not available',
    );
  });
});

describe('tables', () => {
  const t = {
    title: 'T',
    headers: ['run', 'events/s'],
    rows: [
      ['raw | ceiling', 123456.7],
      ['x', null],
    ],
  };

  it('markdown escapes pipes, formats numbers, shows missing values as a dash', () => {
    expect(markdownTable(t)).toBe(
      '| run | events/s |\n| --- | --- |\n| raw \\| ceiling | 123,457 |\n| x | — |',
    );
  });

  it('text tables align columns', () => {
    const lines = textTable(t).split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBeLessThanOrEqual(2);
    expect(lines[2]).toContain('123,457');
  });

  it('a rendered report carries machine, settings, targets with status, and notes', () => {
    const r: SuiteReport = {
      suite: 'store',
      title: 'Store',
      command: 'npm run bench:store',
      startedAt: new Date('2026-01-02T03:04:05Z'),
      durationMs: 65_000,
      machine: {
        cpu: 'CPU X',
        cores: 2,
        ramGiB: 23.5,
        os: 'Linux',
        node: 'v20.20.0',
        kafka: 'not used',
        loadAverage1m: 1.5,
      },
      settings: [['rows', '10,000,000']],
      targets: [
        {
          name: 'rows/s',
          kind: 'atLeast',
          goal: 100_000,
          unit: 'rows/s',
          measured: null,
          note: 'benchStore missing',
        },
      ],
      tables: [],
      notes: ['a note'],
    };
    const md = renderMarkdown(r);
    expect(md).toContain('2026-01-02T03:04:05.000Z');
    expect(md).toContain('1 min 5 s');
    expect(md).toContain('CPU X, 2 cores, 23.5 GiB RAM');
    expect(md).toContain('rows = 10,000,000');
    expect(md).toContain(
      '| rows/s | >= 100,000 rows/s | not available | not available | — | benchStore missing |',
    );
    expect(md).toContain('- a note');
  });
});
