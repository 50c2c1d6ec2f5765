/**
 * What the Kafka wiring needs from the engine: the engine's own interface, narrowed to the calls the wiring
 * makes (so a test or a benchmark can drive the wiring with the real engine and nothing else).
 */
import type { Engine } from './engine/index.js';

export type EnginePort = Pick<
  Engine,
  | 'onRequest'
  | 'onDispatch'
  | 'onCallback'
  | 'tick'
  | 'drainOutputs'
  | 'drainChangelog'
  | 'restore'
  | 'exportState'
  | 'dropPartitions'
  | 'setBacklog'
  | 'inputsCaughtUp'
  // Live pipeline gauges (consumer lag, input watermarks, idle inputs) for /metrics and the dashboard.
  | 'watermarks'
  // Scale-out (SEMANTICS.md §10): binding records in, handoff records in and out.
  | 'onRemoteBinding'
  | 'onHandoff'
  | 'drainHandoffs'
>;
