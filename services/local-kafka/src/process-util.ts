import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Keeps the last `capacity` lines of a child's output, for error messages. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly capacity: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Splits a stream of chunks into lines; the last partial line is flushed by `end()`. */
export function lineSplitter(onLine: (line: string) => void): {
  write(chunk: Buffer | string): void;
  end(): void;
} {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk.toString();
      let nl = pending.indexOf('\n');
      while (nl !== -1) {
        onLine(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    },
    end() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/**
 * Runs a command to completion, merging stdout and stderr line by line. Rejects only when the command cannot
 * be started (e.g. ENOENT); a non-zero exit is a normal result for the caller to judge.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; onLine?: (line: string) => void; tailLines?: number; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const tail = new LineTail(opts.tailLines ?? 200);
    const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const onLine = (line: string): void => {
      tail.push(line);
      opts.onLine?.(line);
    };
    const out = lineSplitter(onLine);
    const err = lineSplitter(onLine);
    child.stdout.on('data', (c: Buffer) => out.write(c));
    child.stderr.on('data', (c: Buffer) => err.write(c));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.once('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      out.end();
      err.end();
      resolve({ exitCode, signal, output: tail.text() });
    });
  });
}

/**
 * True when a process with this pid exists and is not a zombie. Zombies count as gone: an orphan reparented
 * to a container's PID 1 that never reaps would otherwise look alive forever.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return procState(pid) !== 'Z';
}

/** Linux process state letter from /proc (R, S, Z, ...); undefined elsewhere or when unreadable. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ..."; comm may contain spaces and parentheses, so parse after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Linux start time of a process (field 22 of /proc/<pid>/stat, clock ticks since boot): with the pid it
 * identifies one process, so a pid reused after a crash is not mistaken for the one recorded. Undefined elsewhere.
 */
export function procStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Linux command line of a process, NUL-separated args joined by spaces; undefined elsewhere. */
export function procCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Polls until `pid` is gone or `timeoutMs` passes; resolves to whether it is gone. */
export async function waitForPidExit(pid: number, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return true;
}

/** Resolves to `'timeout'` if `promise` has not settled within `ms`; never leaves a timer behind. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
