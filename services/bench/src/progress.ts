// Progress for long steps on stderr (stdout carries the tables): one rewritten line on a terminal, a line every
// few seconds otherwise (CI logs).
export interface Progress {
  /** Reports progress of the current step; cheap to call often (throttled). */
  update(done: number, total?: number, extra?: string): void;
  /** Ends the step with a final line. */
  done(summary: string): void;
}

const THROTTLE_TTY_MS = 200;
const THROTTLE_LOG_MS = 5000;

export function step(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY;
  const t0 = performance.now();
  let last = 0;
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  if (!tty) stream.write(`… ${label}\n`);
  return {
    update(done, total, extra) {
      const now = performance.now();
      if (now - last < (tty ? THROTTLE_TTY_MS : THROTTLE_LOG_MS)) return;
      last = now;
      const pct = total ? ` (${Math.floor((100 * done) / total)}%)` : '';
      const text = `… ${label}: ${done.toLocaleString('en-US')}${total ? ` / ${total.toLocaleString('en-US')}` : ''}${pct}${extra ? `, ${extra}` : ''} [${elapsed()}]`;
      if (tty) stream.write(`\r\x1b[2K${text}`);
      else stream.write(`${text}\n`);
    },
    done(summary) {
      const text = `✓ ${label}: ${summary} [${elapsed()}]`;
      stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}

/** A one-line note on stderr. */
export function note(text: string, stream: NodeJS.WriteStream = process.stderr): void {
  stream.write(`  ${text}\n`);
}
