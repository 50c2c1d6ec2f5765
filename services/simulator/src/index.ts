// Public API of @pathwatch/simulator. Names are listed explicitly (no `export *`).
export { SIMULATOR_ERROR_CODES, SimulatorError } from './errors.js';
export type { SimulatorErrorCode } from './errors.js';
export {
  PRESET_NAMES,
  NO_FAULTS,
  OUTCOME_FAULTS,
  resolveGeneratorOptions,
  validateGeneratorOptions,
} from './options.js';
export type {
  CountrySpec,
  FaultRates,
  GeneratorOptions,
  GeneratorOptionsInput,
  HotSpot,
  OperationSpec,
  PresetName,
  ProviderSpec,
  RouteSpec,
  StatusStyle,
  TenantSpec,
  TimingSpec,
  Window,
  WireSpec,
} from './options.js';
export { Rng, hash32, sortableId } from './prng.js';
export type { LatencySpec } from './prng.js';
export type {
  DeadLetterExpectation,
  Expectation,
  ExpectedLayers,
  FaultKind,
  InputKind,
  InvalidKind,
  ScriptedCallback,
  ScriptedDispatch,
  ScriptedEvent,
  ScriptedInvalid,
  ScriptedRequest,
  ScriptedUnit,
  UnitKind,
  VerdictExpectation,
  VerdictFlag,
} from './model.js';
export { deriveTruth, callbackIdentity } from './truth.js';
export type { DerivedTruth, TruthContext } from './truth.js';
export { INVALID_REASON_CODES, fingerprintOf } from './scenario.js';
export {
  EventQueue,
  createEventStream,
  createGenerator,
  currentSchemaVersions,
  generateUnits,
} from './generator.js';
export type { EventStream, Generator } from './generator.js';
export { replayPaced } from './replay.js';
export type { ReplayHandlers, ReplayOptions, ReplayReport } from './replay.js';
export { createWireEncoder } from './wire.js';
export type { OutboundRecord, WireEncoder } from './wire.js';
export { createSimulator } from './simulator.js';
export type {
  ExpectedClass,
  RunOptions,
  RunReport,
  SetTimer,
  Simulator,
  SimulatorDeps,
  SimulatorStats,
} from './simulator.js';
export { simulatorConfigSpec, loadSimulatorConfig } from './config.js';
export type { SimulatorConfig } from './config.js';
export { createSimulatorApp, producerSink } from './app.js';
export { runSimulatorService } from './service.js';
export type { SimulatorApp, SimulatorAppDeps } from './app.js';
