/**
 * Per-stage health for readiness probes: a stage is healthy while it runs and makes progress. It is not when it
 * is stopped, hit a fatal error, has been failing (retriable failures, being retried) for longer than
 * `stallAfterMs`, or has had work pending — input lag or data not yet committed — for longer than `stallAfterMs`
 * without any progress. Progress times are processing (wall) time from the injected clock.
 */
import { PathwatchError } from './errors.js';

export interface StageHealthReport {
  /** Stable stage name, e.g. `reconciler.commit`. */
  readonly stage: string;
  readonly ok: boolean;
  /** Starts with the stage name; says why when not ok. */
  readonly detail: string;
  /** Records waiting for the stage (consumer lag plus data consumed but not committed). */
  readonly pending: number;
  /** Wall time since the last progress (null: none yet). */
  readonly sinceProgressMs: number | null;
}

export interface StageHealthOptions {
  stage: string;
  /** Pending work without progress (or failing) this long makes the stage unhealthy. */
  stallAfterMs: number;
  now: () => number;
}

export class StageHealth {
  private running = false;
  private fatal: string | undefined;
  private lastProgressAt: number | undefined;
  private pending = 0;
  private pendingSince: number | undefined;
  private failingSince: number | undefined;
  private lastFailure: string | undefined;

  constructor(private readonly opts: StageHealthOptions) {}

  get stage(): string {
    return this.opts.stage;
  }

  /** The stage started (true) or stopped (false). */
  setRunning(running: boolean): void {
    this.running = running;
  }

  /** The stage completed a unit of work (a commit, a written batch); clears any failure. */
  progress(): void {
    this.lastProgressAt = this.opts.now();
    this.failingSince = undefined;
    this.lastFailure = undefined;
    if (this.pending > 0) this.pendingSince = this.lastProgressAt;
  }

  /** Records waiting for this stage now. */
  setPending(n: number): void {
    if (n > 0 && this.pending === 0) this.pendingSince = this.opts.now();
    if (n === 0) this.pendingSince = undefined;
    this.pending = n;
  }

  /** A retriable failure; the stage is retrying. */
  failure(err: unknown): void {
    this.failingSince ??= this.opts.now();
    this.lastFailure = describe(err);
  }

  /** The stage stopped on an error it cannot get past. */
  fatalError(err: unknown): void {
    this.fatal = describe(err);
  }

  /** Whether the stage currently counts as failing (retries in progress). */
  isFailing(): boolean {
    return this.failingSince !== undefined;
  }

  /** Since when the stage has been failing (undefined: it is not). */
  failingForMs(): number | undefined {
    return this.failingSince === undefined ? undefined : this.opts.now() - this.failingSince;
  }

  report(): StageHealthReport {
    const now = this.opts.now();
    const { stage, stallAfterMs } = this.opts;
    const sinceProgressMs = this.lastProgressAt === undefined ? null : now - this.lastProgressAt;
    const base = { stage, pending: this.pending, sinceProgressMs };
    if (this.fatal !== undefined) return { ...base, ok: false, detail: `${stage}: stopped: ${this.fatal}` };
    if (!this.running) return { ...base, ok: false, detail: `${stage}: not running` };
    if (this.failingSince !== undefined && now - this.failingSince > stallAfterMs)
      return {
        ...base,
        ok: false,
        detail: `${stage}: failing for ${now - this.failingSince} ms: ${this.lastFailure ?? 'unknown error'}`,
      };
    if (this.pendingSince !== undefined && this.pending > 0) {
      const waited = now - Math.max(this.pendingSince, this.lastProgressAt ?? this.pendingSince);
      if (waited > stallAfterMs)
        return {
          ...base,
          ok: false,
          detail: `${stage}: stalled: no progress for ${waited} ms with ${this.pending} records pending`,
        };
    }
    return { ...base, ok: true, detail: `${stage}: ok (${this.pending} pending)` };
  }
}

/** One readiness check for a service of several stages: not ok when any stage is not, naming each that is not. */
export function combineHealth(reports: readonly StageHealthReport[]): { ok: boolean; detail: string } {
  const bad = reports.filter((r) => !r.ok);
  if (bad.length > 0) return { ok: false, detail: bad.map((r) => r.detail).join('; ') };
  return { ok: true, detail: reports.map((r) => r.detail).join('; ') };
}

function describe(err: unknown): string {
  if (err instanceof PathwatchError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
