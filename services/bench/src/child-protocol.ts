// What the bench parent and its child processes exchange: the child's config (argv JSON) and its status lines.
import type { TopicNames } from '@pathwatch/schemas';

export interface ChildConfig {
  readonly mode: 'raw-consume' | 'reconciler';
  readonly brokers: readonly string[];
  readonly topics: TopicNames;
  readonly changelogTopic: string;
  readonly groupId: string;
  readonly instanceId: string;
  readonly engine: 'stub' | 'product';
  readonly partitions: number;
  readonly commitIntervalMs: number;
  readonly tickIntervalMs: number;
  /** raw-consume: records to consume before reporting done. */
  readonly expected: number;
  readonly statsIntervalMs: number;
  /** pino level of the reconciler's logs. */
  readonly logLevel: 'info' | 'warn';
}

/** What a child prints (one JSON object per line). */
export type ChildStatus =
  | { bench: 'started'; t: number }
  | {
      bench: 'stats';
      t: number;
      inputs: number;
      firstInputAt: number | null;
      rss: number;
      heapUsed: number;
      /** CPU time (user + system) of the child so far, and when the first input was seen (start-up excluded). */
      cpuMs: number;
      cpuAtFirstInputMs: number | null;
      transactions?: number;
      verdicts?: number;
      /** Open requests the engine holds (after a restore: what it restored). */
      open?: number | null;
      /** Event-loop delay of the child since it started (ms; stalls show here). */
      loopDelayP99Ms?: number;
      loopDelayMaxMs?: number;
      /** Garbage-collection pauses since start: the longest and the total (ms). */
      gcMaxMs?: number;
      gcTotalMs?: number;
    }
  | {
      bench: 'done';
      t: number;
      count: number;
      firstAt: number;
      lastAt: number;
      rss: number;
      heapUsed: number;
      cpuMs: number;
      cpuAtFirstInputMs: number;
    }
  | { bench: 'error'; t: number; message: string; code?: string };
