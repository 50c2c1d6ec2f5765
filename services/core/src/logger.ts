/**
 * One root pino logger per process (created in main.ts), child loggers per module, kafkajs logs routed in.
 * Secrets never reach the log: credential-named keys are censored by pino `redact`, and every finished line
 * passes through `redactText` (URL passwords, credential query parameters, `name=value` pairs, bearer tokens),
 * which also covers messages, error stacks and what serializers (e.g. fastify's `req.url`) produce.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { REDACTED, redactText } from './redact.js';

export type { Logger } from 'pino';

const CREDENTIAL_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authToken',
  'apiKey',
  'authorization',
  'cookie',
  'clickhousePassword',
  'saslPassword',
];
/** pino `redact` paths: credential-named keys at the top level and one level down, plus request headers. */
export const REDACT_PATHS: readonly string[] = [
  ...CREDENTIAL_KEYS,
  ...CREDENTIAL_KEYS.map((k) => `*.${k}`),
  'sasl.password',
  '*.sasl.password',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
];

export function createRootLogger(opts: {
  level: LogLevel;
  name: string;
  destination?: pino.DestinationStream;
}): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name,
    level: opts.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  return pino(options, redactingStream(opts.destination ?? pino.destination(1)));
}

/** Passes every finished log line through `redactText` before `inner` sees it. */
export function redactingStream(inner: pino.DestinationStream): pino.DestinationStream {
  const target = inner as pino.DestinationStream & {
    flush?: (cb?: (err?: Error) => void) => void;
    flushSync?: () => void;
    end?: () => void;
  };
  const wrapper: pino.DestinationStream & Record<string, unknown> = {
    write: (line: string) => target.write(redactText(line)),
  };
  if (typeof target.flush === 'function') wrapper['flush'] = target.flush.bind(target);
  if (typeof target.flushSync === 'function') wrapper['flushSync'] = target.flushSync.bind(target);
  if (typeof target.end === 'function') wrapper['end'] = target.end.bind(target);
  return wrapper;
}
