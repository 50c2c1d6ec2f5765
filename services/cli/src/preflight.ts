/**
 * Checks `pathwatch start` makes before it starts anything (the broker takes seconds, the reconciler's restore
 * longer): the API port is free, ClickHouse answers (server mode) or its data directory is writable and not held
 * by another process (embedded), the log directory is writable, and no other `pathwatch start` owns this
 * PATHWATCH_HOME. Each failure names the variable to change; all are reported together with the config problems.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { redactUrl } from '@pathwatch/core';
import { dataDirHolder, type ClickHouseOptions } from '@pathwatch/path-store';
import { readRunningKafka } from '@pathwatch/local-kafka';

export interface PreflightProblem {
  readonly variable: string;
  readonly problem: string;
  readonly raw: undefined;
}

export interface PreflightInput {
  readonly api: { readonly host: string; readonly port: number };
  readonly clickhouse: ClickHouseOptions;
  /** Unset: an external broker (KAFKA_BROKERS) is used, the local one is not checked. */
  readonly kafkaStateDir: string | undefined;
  readonly logPath: string | undefined;
  /** @default 3000 */
  readonly timeoutMs?: number;
}

export async function preflight(input: PreflightInput): Promise<PreflightProblem[]> {
  const timeoutMs = input.timeoutMs ?? 3_000;
  const found = await Promise.all([
    portProblem(input.api.host, input.api.port),
    input.clickhouse.mode === 'server'
      ? clickhouseServerProblem(input.clickhouse.url, timeoutMs)
      : Promise.resolve(embeddedProblem(input.clickhouse.dataDir)),
    Promise.resolve(
      input.logPath === undefined ? undefined : writableDirProblem('LOG_FILE', path.dirname(input.logPath)),
    ),
    input.kafkaStateDir === undefined ? Promise.resolve(undefined) : homeProblem(input.kafkaStateDir),
  ]);
  return found.filter((p): p is PreflightProblem => p !== undefined);
}

const problem = (variable: string, text: string): PreflightProblem => ({
  variable,
  problem: text,
  raw: undefined,
});

/** Binds host:port once and lets go, so a busy port is known before anything else starts. */
function portProblem(host: string, port: number): Promise<PreflightProblem | undefined> {
  if (port === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        resolve(
          problem(
            'QUERY_API_PORT',
            `port ${port} on ${host} is already in use by another process (choose another QUERY_API_PORT, or 0 for any free port)`,
          ),
        );
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        resolve(problem('QUERY_API_HOST', `${host} is not an address of this machine (${err.code})`));
      else resolve(problem('QUERY_API_PORT', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

async function clickhouseServerProblem(
  url: string,
  timeoutMs: number,
): Promise<PreflightProblem | undefined> {
  // fetch() refuses URLs with credentials, and /ping needs none.
  const ping = new URL(url);
  ping.username = '';
  ping.password = '';
  ping.pathname = `${ping.pathname.replace(/\/$/, '')}/ping`;
  ping.search = '';
  try {
    const res = await fetch(ping, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.ok) return undefined;
    return problem('CLICKHOUSE_URL', `ClickHouse at ${redactUrl(url)} answered ${res.status} to /ping`);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return problem(
      'CLICKHOUSE_URL',
      `ClickHouse at ${redactUrl(url)} is not reachable (${cause}); start it, fix CLICKHOUSE_URL, or unset it for the embedded engine`,
    );
  }
}

function embeddedProblem(dataDir: string): PreflightProblem | undefined {
  const writable = writableDirProblem('CLICKHOUSE_DATA_DIR', dataDir);
  if (writable) return writable;
  const holder = dataDirHolder(dataDir);
  return holder === null
    ? undefined
    : problem(
        'CLICKHOUSE_DATA_DIR',
        `${dataDir} is held by process ${holder} (the embedded engine allows one process per data directory): stop it, or choose another CLICKHOUSE_DATA_DIR / PATHWATCH_HOME`,
      );
}

function writableDirProblem(variable: string, dir: string): PreflightProblem | undefined {
  const probe = path.join(dir, `.pathwatch-write-test-${randomUUID()}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return problem(
      variable,
      `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/** Another `pathwatch start` on this home would fight over the broker and the data: refuse, naming it. */
async function homeProblem(kafkaStateDir: string): Promise<PreflightProblem | undefined> {
  const running = await readRunningKafka(kafkaStateDir);
  if (!running || running.kind === 'detached' || running.ownerPid === process.pid) return undefined;
  return problem(
    'PATHWATCH_HOME',
    `${path.dirname(kafkaStateDir)} is in use: ${running.ownerLabel} (pid ${running.ownerPid}) runs its Kafka broker ` +
      `on ${running.brokers.join(',')} and holds the data here. Stop it first (Ctrl-C there), or use another PATHWATCH_HOME`,
  );
}
