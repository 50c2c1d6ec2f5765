// Actions: the compensating actions a verdict version calls for (by the configured action rules) and the
// retractions of earlier actions a later version makes moot. Each action kind fires at most once per trigger
// class per request; the emitted/retracted bitmaps live in the slot header (O_ACT_EMIT, O_ACT_RETR).
import type { Action, Verdict } from '@pathwatch/schemas';
import type { Classifier } from './classify.js';
import * as K from './codes.js';
import type { EngineState } from './state.js';

/** Verdict classes whose compensation a later class makes moot. */
function moot(trigger: number, now: number): boolean {
  if (now === K.C_ON_TIME) return trigger !== K.C_ON_TIME;
  if (now === K.C_LATE) return trigger !== K.C_LATE;
  if (trigger === K.C_ORPHAN_CALLBACK || trigger === K.C_ORPHAN_DISPATCH)
    return now !== K.C_ORPHAN_CALLBACK && now !== K.C_ORPHAN_DISPATCH;
  return false;
}

export class ActionBuilder {
  constructor(
    private readonly s: EngineState,
    private readonly cl: Classifier,
  ) {}

  /** Retracts the actions version `v` of `slot` makes moot, then emits the compensating actions its class calls for. */
  emit(slot: number, v: Verdict): void {
    const cl = this.cl;
    const store = this.s.store;
    const cls = cl.rClass;
    let emitted = store.rd32(slot, K.O_ACT_EMIT);
    let retracted = store.rd32(slot, K.O_ACT_RETR);
    const lastProvider = cl.rLast >= 0 ? this.s.names.value(cl.aProv[cl.rLast]!) : null;
    const lastRoute =
      cl.rLast >= 0
        ? this.s.names.value(store.arena.u16[cl.scanPage]![(cl.aRec[cl.rLast]! + K.A_ROUTE) >> 1]!)
        : null;
    // Retract actions this version makes moot.
    const active = (emitted & ~retracted) >>> 0;
    if (active !== 0) {
      for (let bit = 0; bit < 32; bit++) {
        if ((active & (1 << bit)) === 0) continue;
        const trigger = (bit >> 2) + 1;
        if (!moot(trigger, cls)) continue;
        retracted |= 1 << bit;
        const retractedId = `${v.request_id}:${K.ACTION_KIND_NAMES[bit & 3]}:${K.VERDICT_CLASS_NAMES[trigger]}`;
        this.s.actions.push(
          this.action(v, `${retractedId}:retract`, 'retract', retractedId, lastProvider, lastRoute),
        );
        this.s.c.retractions++;
      }
    }
    if (cls !== K.C_ON_TIME) {
      for (const rule of this.s.o.actionRules) {
        if (K.CLASS_CODE[rule.verdict] !== cls) continue;
        if (rule.operation !== undefined && rule.operation !== v.operation) continue;
        if (rule.channel !== undefined && rule.channel !== v.channel) continue;
        for (const kind of rule.kinds) {
          const bit = (cls - 1) * 4 + (K.ACTION_KIND_CODE[kind] ?? 3);
          if ((emitted & (1 << bit)) !== 0) continue;
          emitted |= 1 << bit;
          this.s.actions.push(
            this.action(v, `${v.request_id}:${kind}:${v.verdict}`, kind, null, lastProvider, lastRoute),
          );
          this.s.c.actions++;
        }
      }
    }
    store.wr32(slot, K.O_ACT_EMIT, emitted >>> 0);
    store.wr32(slot, K.O_ACT_RETR, retracted >>> 0);
  }

  private action(
    v: Verdict,
    actionId: string,
    kind: Action['kind'],
    retracts: string | null,
    lastProvider: string | null,
    lastRoute: string | null,
  ): Action {
    return {
      action_id: actionId,
      request_id: v.request_id,
      tenant_id: v.tenant_id,
      kind,
      reason: v.verdict,
      retracts_action_id: retracts,
      verdict_id: v.verdict_id,
      verdict_version: v.version,
      provisional: v.provisional,
      created_at: v.decided_at,
      operation: v.operation,
      channel: v.channel,
      last_provider: lastProvider,
      last_route: lastRoute,
    };
  }
}
