/**
 * The `pathwatch` CLI as a separate process, run from its TypeScript sources (no build needed), for tests that
 * follow the deployment guide: one service per process, each found through the URL it logs.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnTs } from './spawn-ts.js';
import { waitFor } from './kafka.js';

export const CLI_ENTRY = fileURLToPath(new URL('../../services/cli/src/bin.ts', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far. */
  readonly stdout: string[];
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** JSON log lines (pino) on stdout with this `msg`. */
  logs(msg: string): Record<string, unknown>[];
  /** Waits for a log line with `msg` and returns its `url` field. */
  url(msg: string, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `pathwatch <args>` with exactly `env` (plus PATH and HOME). */
export function startCli(args: readonly string[], env: Readonly<Record<string, string>>): CliProcess {
  const child = spawnTs(CLI_ENTRY, args, {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
  });
  const stdout: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
  });
  const logs = (msg: string): Record<string, unknown>[] =>
    stdout
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      })
      .filter((o) => o['msg'] === msg);
  return {
    child,
    stdout,
    stderr: () => err,
    exited,
    logs,
    async url(msg, timeoutMs = 90_000) {
      return waitFor(
        () => {
          if (exitedYet)
            throw new Error(
              `pathwatch ${args.join(' ')} exited; stderr:\n${err}\nstdout:\n${stdout.join('\n')}`,
            );
          const u = logs(msg)[0]?.['url'];
          return typeof u === 'string' ? u : undefined;
        },
        { timeoutMs, intervalMs: 200, description: `"${msg}" from pathwatch ${args.join(' ')}` },
      ).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\nstderr:\n${err}`);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!exitedYet) child.kill(signal);
      return exited;
    },
  };
}

/** GET `url`; the status and the body text (never throws on a status). */
export async function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text() };
}
