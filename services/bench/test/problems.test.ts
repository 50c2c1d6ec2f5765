import { describe, expect, it } from 'vitest';
import { summarizeProblems } from '../src/child-process.js';

describe('summarizeProblems', () => {
  it('groups pino lines by message and detail, also when a line was cut short', () => {
    const full = JSON.stringify({
      level: 'warn',
      msg: 'output transaction failed: retrying',
      err: { type: 'KafkaError', message: 'too large' },
    });
    const cut = full.slice(0, 80);
    const other = JSON.stringify({ level: 'error', msg: 'record dead-lettered' });
    expect(summarizeProblems([full, full, other])).toBe(
      '2 x output transaction failed: retrying (too large); 1 x record dead-lettered',
    );
    expect(summarizeProblems([cut])).toBe('1 x output transaction failed: retrying');
    expect(summarizeProblems(['not json at all'])).toBe('1 x not json at all');
    expect(summarizeProblems([])).toBe('');
  });
});
