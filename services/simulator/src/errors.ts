/**
 * Errors of @pathwatch/simulator. Codes are stable (`SIM_` prefix); `retriable` says whether trying again can
 * help; the cause is kept.
 */
import { PathwatchError } from '@pathwatch/core';

export type SimulatorErrorCode =
  /** Generator options are inconsistent (e.g. give-up too close to the SLA for exact ground truth). */
  | 'SIM_INVALID_OPTIONS'
  /** A run was requested while another run of the same simulator is active or finished. */
  | 'SIM_ALREADY_RUNNING'
  /** The injected send failed; the events are lost for this run (their expectations are marked). */
  | 'SIM_SEND_FAILED'
  /** An event could not be encoded with the schemas codec (a generator bug). */
  | 'SIM_ENCODE_FAILED'
  /** No exact script could be built for a unit (horizons leave no room outside the safety margins). */
  | 'SIM_SCRIPT_INFEASIBLE';

export class SimulatorError extends PathwatchError {
  declare readonly code: SimulatorErrorCode;

  constructor(
    code: SimulatorErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts);
  }
}
