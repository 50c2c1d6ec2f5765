// Progress for long steps on stderr (stdout carries the tables): one rewritten line on a terminal, a line every
// few seconds otherwise (CI logs).
export interface Progress {
  /** Reports progress of the current step; cheap to call often (throttled). */
  update(done: number, total?: number, extra?: string): void;
  /** Reports what the step is doing now, in words (throttled like update). */
  say(text: string): void;
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
  const write = (body: string, force = false): void => {
    const now = performance.now();
    if (!force && now - last < (tty ? THROTTLE_TTY_MS : THROTTLE_LOG_MS)) return;
    last = now;
    const text = `… ${label}: ${body} [${elapsed()}]`;
    if (tty) stream.write(`\r\x1b[2K${text}`);
    else stream.write(`${text}\n`);
  };
  let lastSaid = '';
  return {
    update(done, total, extra) {
      const pct = total ? ` (${Math.floor((100 * done) / total)}%)` : '';
      write(
        `${done.toLocaleString('en-US')}${total ? ` / ${total.toLocaleString('en-US')}` : ''}${pct}${extra ? `, ${extra}` : ''}`,
      );
    },
    say(text) {
      // A new phase is always shown; repeats of the same one are throttled.
      write(text, text !== lastSaid);
      lastSaid = text;
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
