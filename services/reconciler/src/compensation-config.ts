/**
 * RECONCILER_COMPENSATION_RULES_FILE: the compensation rules as a JSON file, read and validated when the
 * configuration is loaded (at start), every problem of the file reported at once. Format: README, "Compensation
 * rules"; semantics: engine/compensation.ts.
 */
import { readFileSync } from 'node:fs';
import type { VarSpec } from '@pathwatch/core';
import { parseCompensationRules, type CompensationRule } from './engine/compensation.js';

/** Larger files are refused before parsing. */
export const MAX_RULES_FILE_BYTES = 1_048_576;

export function readCompensationRulesFile(file: string): CompensationRule[] {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_RULES_FILE_BYTES)
      throw new Error(`${file}: larger than ${MAX_RULES_FILE_BYTES} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === undefined ? e.message : `cannot read ${file}: ${e.code}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { rules, problems } = parseCompensationRules(doc);
  if (problems.length > 0)
    throw new Error(`${file} has ${problems.length} problem(s):\n    ${problems.join('\n    ')}`);
  return rules;
}

export const compensationConfigSpec = {
  compensationRules: {
    env: 'RECONCILER_COMPENSATION_RULES_FILE',
    doc: 'JSON file of compensation rules: which verdicts, for which operation/channel/attributes, after which horizon, request which actions with which parameters (README, Compensation rules). Validated at start. Unset: alert on missing_dispatch, missing_outcome, failed and expired.',
    default: undefined,
    optional: true,
    defaultDoc: 'built-in alert rules',
    parse: readCompensationRulesFile,
  } as VarSpec<CompensationRule[] | undefined>,
};
