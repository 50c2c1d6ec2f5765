import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kafkaBrokers } from './kafka.js';
import type { PipelineTopics } from './pipeline.js';
import { readJsonLine, spawnTs } from './spawn-ts.js';

const CHILD = fileURLToPath(new URL('./fixtures/reconciler-child.ts', import.meta.url));

/**
 * The reconciler as its own process (fixtures/reconciler-child.ts) on a test's topics, for the crash tests that
 * SIGKILL it under load and start it again. Short grace periods so verdicts settle between the kills.
 */
export class ReconcilerChild {
  private child: ChildProcessWithoutNullStreams | undefined;

  constructor(private readonly t: PipelineTopics) {}

  /** Starts the process; resolves once it prints its ready line (it is consuming). */
  async start(): Promise<void> {
    const child = spawnTs(CHILD, [
      JSON.stringify({
        brokers: kafkaBrokers(),
        topics: this.t.topics,
        changelog: this.t.changelog,
        groupId: this.t.groupId,
        engine: { retryGraceMs: 300, orphanGraceMs: 3000 },
      }),
    ]);
    this.child = child;
    await readJsonLine(child, 90_000);
  }

  /** SIGKILLs the process (if running) and resolves once it has exited. */
  kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  /**
   * For each delay in turn: waits that long (the load keeps running meanwhile), calls `beforeKill` if given,
   * SIGKILLs the process and starts it again.
   */
  async killRepeatedly(
    delaysMs: readonly number[],
    beforeKill?: (delayMs: number) => Promise<void>,
  ): Promise<void> {
    for (const ms of delaysMs) {
      await new Promise((r) => setTimeout(r, ms));
      await beforeKill?.(ms);
      await this.kill();
      await this.start();
    }
  }
}
