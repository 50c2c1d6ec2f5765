// The product engine behind the reconciler's EnginePort: a factory the reconciler exports for main.ts when there
// is one, else `createEngine` with the options the service's configuration defaults map to.
import type { Logger } from '@pathwatch/core';
import * as reconcilerPkg from '@pathwatch/reconciler';
import type { EngineOptions, EnginePort } from '@pathwatch/reconciler';

/** Export the harness prefers when present: `(deps: { now, logger }) => EnginePort`, exactly what main.ts runs. */
export const ENGINE_PORT_FACTORY = 'createEnginePort';

export type EnginePortFactory = (deps: { now: () => number; logger: Logger }) => EnginePort;

export interface ProductEngine {
  readonly create: EnginePortFactory;
  /** The engine options used, when the harness chose them (null: a factory of the package's own). */
  readonly options: EngineOptions | null;
  /** How the engine was built, for the report. */
  readonly how: string;
}

export function productEngine(): ProductEngine | null {
  const pkg = reconcilerPkg as Record<string, unknown>;
  const factory = pkg[ENGINE_PORT_FACTORY];
  if (typeof factory === 'function')
    return {
      create: factory as EnginePortFactory,
      options: null,
      how: `${ENGINE_PORT_FACTORY}() from @pathwatch/reconciler`,
    };
  const createEngine = pkg['createEngine'];
  const optionsFrom = pkg['engineOptionsFrom'];
  const loadConfig = pkg['loadReconcilerConfig'];
  if (
    typeof createEngine === 'function' &&
    typeof optionsFrom === 'function' &&
    typeof loadConfig === 'function'
  ) {
    const make = createEngine as (o: EngineOptions, wall: { now: () => number }) => EnginePort;
    // The service's own mapping of its configuration defaults (an empty environment) to engine options.
    const options = (optionsFrom as (c: unknown) => EngineOptions)(
      (loadConfig as (env: Record<string, string>) => unknown)({}),
    );
    return {
      create: ({ now }) => make(options, { now }),
      options,
      how: `createEngine(engineOptionsFrom(loadReconcilerConfig({}))) from @pathwatch/reconciler, i.e. the service's configuration defaults: ${JSON.stringify(options)}`,
    };
  }
  if (typeof createEngine === 'function') {
    const make = createEngine as (o: EngineOptions, wall: { now: () => number }) => EnginePort;
    return {
      create: ({ now }) => make({}, { now }),
      options: {},
      how: "createEngine({}) from @pathwatch/reconciler: the engine's own defaults (the package exports no engineOptionsFrom/loadReconcilerConfig)",
    };
  }
  return null;
}
