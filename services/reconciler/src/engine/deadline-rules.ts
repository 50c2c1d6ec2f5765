// Deadlines from configuration: a request's SLA and give-up time, from the event when it carries them, else
// from the most specific deadline rule (operation and channel > operation > channel > defaults), cached per
// (operation, channel).
import type { Interner } from './intern.js';
import type { ResolvedOptions } from './options.js';

export class DeadlineRules {
  private readonly cache = new Map<number, number>();
  /** Result of resolve(). */
  slaMs = 0;
  /** Result of resolve() (never below slaMs). */
  giveUpMs = 0;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly names: Interner,
  ) {}

  /** Deadlines of a request into slaMs/giveUpMs (fields: no object per event). */
  resolve(operation: string, channel: string, slaMs: number | null, giveUpMs: number | null): void {
    let sla = slaMs;
    let give = giveUpMs;
    if (sla === null || give === null || !(sla >= 0) || !(give >= 0)) {
      const key = this.names.id(operation) * 65536 + this.names.id(channel);
      let packed = this.cache.get(key);
      if (packed === undefined) {
        const r = this.ruleFor(operation, channel);
        packed = r.slaMs * 4294967296 + r.giveUpMs;
        this.cache.set(key, packed);
      }
      const cfgSla = Math.floor(packed / 4294967296);
      const cfgGive = packed - cfgSla * 4294967296;
      if (sla === null || !(sla >= 0)) sla = cfgSla;
      if (give === null || !(give >= 0)) give = cfgGive;
    }
    this.slaMs = Math.min(sla, 2147483647);
    this.giveUpMs = Math.min(Math.max(give, this.slaMs), 2147483647);
  }

  private ruleFor(operation: string, channel: string): { slaMs: number; giveUpMs: number } {
    let best: { slaMs: number; giveUpMs: number } = {
      slaMs: this.o.defaultSlaMs,
      giveUpMs: this.o.defaultGiveUpMs,
    };
    let bestScore = -1;
    for (const r of this.o.deadlineRules) {
      if (r.operation !== undefined && r.operation !== operation) continue;
      if (r.channel !== undefined && r.channel !== channel) continue;
      const score = (r.operation !== undefined ? 2 : 0) + (r.channel !== undefined ? 1 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = r;
      }
    }
    return best;
  }
}
