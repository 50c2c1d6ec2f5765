/**
 * Progress for long steps (fetching jars, starting the broker): a rewriting status line on a TTY,
 * plain timestamped lines otherwise (CI logs). Every message is redacted (URLs with passwords, tokens) here, so
 * no caller can put a secret on the screen.
 */
import { redactText } from '@pathwatch/core';

export interface Progress {
  step(message: string): void;
  done(message: string): void;
  fail(message: string): void;
}

export function createProgress(
  out: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  const started = now();
  const tty = out.isTTY;
  const stamp = (): string => `${((now() - started) / 1000).toFixed(1).padStart(5)}s`;
  let open = false;
  const line = (symbol: string, raw: string, final: boolean): void => {
    const message = redactText(raw);
    if (tty) {
      out.write(`\r\x1b[2K${symbol} [${stamp()}] ${message}${final ? '\n' : ''}`);
      open = !final;
    } else {
      out.write(`${symbol} [${stamp()}] ${message}\n`);
    }
  };
  return {
    step: (m) => line('…', m, false),
    done: (m) => line('✔', m, true),
    fail: (m) => {
      if (open) out.write('\n');
      line('✖', m, true);
    },
  };
}
