import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./ts-loader/register.mjs', import.meta.url));

/**
 * Runs a TypeScript file of this repository in a separate Node process, resolving workspace packages to their
 * sources like vitest does. For tests that must kill or outlive a real process.
 */
export function spawnTs(
  file: string,
  args: readonly string[] = [],
  opts: { env?: NodeJS.ProcessEnv } = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--conditions=@pathwatch/source', '--import', REGISTER, file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
}

/**
 * First stdout line of `child` parsed as JSON; rejects with its stderr if it exits first or `timeoutMs` passes.
 */
export function readJsonLine<T>(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(`${why}\n--- child stderr ---\n${err}\n--- child stdout ---\n${out}`));
    };
    const timer = setTimeout(() => fail(`no JSON line from child within ${timeoutMs} ms`), timeoutMs);
    const onOut = (chunk: Buffer): void => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      cleanup();
      try {
        resolve(JSON.parse(out.slice(0, nl)) as T);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const onErr = (chunk: Buffer): void => {
      err += chunk.toString();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`child exited (code ${code}, signal ${signal}) before printing a JSON line`);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout.off('data', onOut);
      child.off('exit', onExit);
    }
    child.stdout.on('data', onOut);
    child.stderr.on('data', onErr);
    child.once('exit', onExit);
  });
}
