// Secrets never printed: runs `pathwatch start` as a real process with credentials in its configuration and
// greps everything it wrote (terminal and log file) for them. One run fails at preflight on purpose (a ClickHouse
// server URL with a password, where the URL is what the error must name); one runs the whole pipeline on the
// embedded default with an API token and debug logging, and is stopped with SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGISTER = fileURLToPath(new URL('../support/ts-loader/register.mjs', import.meta.url));
const BIN = path.join(ROOT, 'services/cli/src/bin.ts');

const CH_PASSWORD = 'Ch-pass-7f3a9c1e55d0';
const API_TOKEN = 'api-token-2b8e41d9c0aa4f71';
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'pw-secrets-'));
  dirs.push(d);
  return d;
}

/** A port nothing listens on (bound once, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startCli(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--conditions=@pathwatch/source', '--import', REGISTER, BIN, 'start'], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(run: Run, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (run.child.exitCode !== null) throw new Error(`pathwatch start exited early:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('secrets in terminal output and logs', () => {
  it('a failing start names CLICKHOUSE_URL without its password or the API token', async () => {
    const home = await tempDir();
    const logFile = path.join(home, 'logs', 'pathwatch.log');
    const port = await closedPort();
    const run = startCli({
      PATHWATCH_HOME: home,
      LOG_FILE: logFile,
      LOG_LEVEL: 'debug',
      QUERY_API_PORT: '0',
      QUERY_API_TOKEN: API_TOKEN,
      CLICKHOUSE_URL: `http://pathwatch:${CH_PASSWORD}@127.0.0.1:${port}/`,
    });
    const code = await run.exited;
    const log = await readFile(logFile, 'utf8').catch(() => '');
    const written = run.output() + log;
    expect(code).not.toBe(0);
    expect(run.output()).toContain('CLICKHOUSE_URL');
    expect(run.output()).toContain(`127.0.0.1:${port}`);
    expect(written).not.toContain(CH_PASSWORD);
    expect(written).not.toContain(encodeURIComponent(CH_PASSWORD));
    expect(written).not.toContain(API_TOKEN);
  }, 120_000);

  it('a whole run with an API token and debug logging never writes the token', async () => {
    const home = await tempDir();
    const logFile = path.join(home, 'logs', 'pathwatch.log');
    const run = startCli({
      PATHWATCH_HOME: home,
      LOG_FILE: logFile,
      LOG_LEVEL: 'debug',
      QUERY_API_PORT: '0',
      QUERY_API_TOKEN: API_TOKEN,
      SIM_RATE_PER_SEC: '50',
    });
    try {
      await waitForOutput(run, 'simulator running', 240_000);
      // Let the summary and the services log a few rounds.
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      run.child.kill('SIGINT');
    }
    const code = await run.exited;
    const log = await readFile(logFile, 'utf8');
    expect(code).toBe(0);
    expect(log.length).toBeGreaterThan(0);
    expect(run.output() + log).not.toContain(API_TOKEN);
  }, 300_000);
});
