// Parent side of the child processes: spawn with the same Node flags (so a source run stays a source run), read
// status lines, wait for conditions, kill.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BenchError } from './errors.js';
import type { ChildConfig, ChildStatus } from './child-protocol.js';

export interface LogLine {
  readonly t: number;
  readonly msg: string;
  readonly obj: Record<string, unknown>;
}

export interface ChildHandle {
  readonly pid: number;
  readonly spawnedAt: number;
  /** Latest status line of each kind. */
  last<K extends ChildStatus['bench']>(
    kind: K,
  ): (Extract<ChildStatus, { bench: K }> & { receivedAt: number }) | undefined;
  /** Resolves with the first status (or log line, by pino msg) matching, or rejects on exit/timeout. */
  waitFor<K extends ChildStatus['bench']>(
    kind: K,
    timeoutMs: number,
    pred?: (s: Extract<ChildStatus, { bench: K }>) => boolean,
  ): Promise<Extract<ChildStatus, { bench: K }> & { receivedAt: number }>;
  waitForLog(msg: string, timeoutMs: number): Promise<LogLine>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** The last lines of output, for error messages. */
  tail(): string;
  /** The last warn/error log lines (pino level warn and above), oldest first. */
  problems(): string[];
}

/** Pino messages whose lines are kept (everything else is only counted, to keep the parent cheap). */
const KEPT_LOG_MESSAGES = ['state restored from changelog', 'reconciler started', 'reconciler closed'];

function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/child-process\.(ts|js)$/, (_m, ext: string) => `child.${ext}`);
}

export function spawnChild(config: ChildConfig): ChildHandle {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [...process.execArgv, childEntry(), JSON.stringify(config)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const spawnedAt = Date.now();
  const statuses = new Map<string, ChildStatus & { receivedAt: number }>();
  const logs: LogLine[] = [];
  const ring: string[] = [];
  const problemLines: string[] = [];
  const listeners = new Set<() => void>();
  const push = (line: string): void => {
    ring.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
    if (ring.length > 40) ring.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const l of listeners) l();
    });
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const receivedAt = Date.now();
    if (line.startsWith('{"bench":')) {
      const s = JSON.parse(line) as ChildStatus;
      statuses.set(s.bench, { ...s, receivedAt });
      if (s.bench === 'error') push(line);
    } else {
      push(line);
      const problem =
        line.includes('"level":"warn"') ||
        line.includes('"level":"error"') ||
        line.includes('"level":"fatal"');
      // kafkajs' one-time partitioner notice is not a problem of the run.
      if (problem && !line.includes('switched default partitioner')) {
        problemLines.push(line.length > 1000 ? `${line.slice(0, 1000)}…` : line);
        if (problemLines.length > 20) problemLines.shift();
      }
      for (const m of KEPT_LOG_MESSAGES) {
        if (line.includes(`"msg":"${m}"`)) {
          logs.push({ t: receivedAt, msg: m, obj: JSON.parse(line) as Record<string, unknown> });
        }
      }
    }
    for (const l of listeners) l();
  });
  createInterface({ input: child.stderr }).on('line', push);

  const tail = (): string => ring.join('\n');
  function until<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      let exitedAlready = false;
      const timer = setTimeout(
        () =>
          finish(
            new BenchError(
              'BENCH_TIMEOUT',
              `child ${child.pid}: no ${what} within ${timeoutMs} ms\n${tail()}`,
            ),
          ),
        timeoutMs,
      );
      const listener = (): void => {
        const v = check();
        if (v !== undefined) return finish(undefined, v);
        const err = statuses.get('error');
        if (err)
          return finish(
            new BenchError(
              'BENCH_CHILD_FAILED',
              `child ${child.pid} failed while waiting for ${what}: ${(err as { message: string }).message}\n${tail()}`,
            ),
          );
        if (exitedAlready || child.exitCode !== null || child.signalCode !== null) {
          return finish(
            new BenchError(
              'BENCH_CHILD_FAILED',
              `child ${child.pid} exited while waiting for ${what}\n${tail()}`,
            ),
          );
        }
      };
      function finish(err: Error | undefined, v?: T): void {
        clearTimeout(timer);
        listeners.delete(listener);
        if (err) reject(err);
        else resolve(v as T);
      }
      void exited.then(() => {
        exitedAlready = true;
      });
      listeners.add(listener);
      listener();
    });
  }

  return {
    pid: child.pid ?? -1,
    spawnedAt,
    last: (kind) => statuses.get(kind) as never,
    waitFor: <K extends ChildStatus['bench']>(
      kind: K,
      timeoutMs: number,
      pred?: (s: Extract<ChildStatus, { bench: K }>) => boolean,
    ) =>
      until<Extract<ChildStatus, { bench: K }> & { receivedAt: number }>(
        `"${kind}" status`,
        timeoutMs,
        () => {
          const s = statuses.get(kind);
          return s && (!pred || pred(s as never)) ? (s as never) : undefined;
        },
      ),
    waitForLog: (msg, timeoutMs) =>
      until(`log "${msg}"`, timeoutMs, () => logs.find((l) => l.msg === msg && l.t >= 0)),
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    tail,
    problems: () => [...problemLines],
  };
}

/** Distinct warn/error messages of a child with counts, e.g. `3 x output transaction failed: retrying (Timeout)`. */
export function summarizeProblems(lines: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) {
    // Lines may be cut at 1000 characters, so fields are read with patterns rather than JSON.parse.
    const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
    const detail = /"(?:message|error)":"((?:[^"\\]|\\.){0,200})/.exec(line)?.[1];
    const key =
      msg === undefined ? line.slice(0, 200) : `${msg}${detail && detail !== msg ? ` (${detail})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} x ${k}`).join('; ');
}
