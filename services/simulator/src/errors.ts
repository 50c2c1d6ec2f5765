/**
 * Errors of @pathwatch/simulator. Codes are stable (`SIM_` prefix); `retriable` says whether trying again can
 * help; the cause is kept.
 */
import { PathwatchError, type CodeTable } from '@pathwatch/errors';

export const SIMULATOR_ERROR_CODES = {
  SIM_INVALID_OPTIONS: {
    retriable: false,
    doc: 'generator options are inconsistent (e.g. give-up too close to the SLA for exact ground truth)',
  },
  SIM_ALREADY_RUNNING: {
    retriable: false,
    doc: 'a run was requested while another run of the same simulator is active or finished',
  },
  SIM_SEND_FAILED: {
    retriable: false,
    doc: 'the injected send failed; the events are lost for this run (their expectations are marked)',
  },
  SIM_ENCODE_FAILED: {
    retriable: false,
    doc: 'an event could not be encoded with the schemas codec (a generator bug)',
  },
  SIM_SCRIPT_INFEASIBLE: {
    retriable: false,
    doc: 'no exact script could be built for a unit (horizons leave no room outside the safety margins)',
  },
} as const satisfies CodeTable;

export type SimulatorErrorCode = keyof typeof SIMULATOR_ERROR_CODES;

export class SimulatorError extends PathwatchError<SimulatorErrorCode> {
  constructor(
    code: SimulatorErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts, SIMULATOR_ERROR_CODES);
  }
}
