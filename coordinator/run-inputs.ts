// The columns a served model reads: what a clinician's client sends, and nothing else.

import { inputColumns } from '../shared/study.js';
import type { RunRow } from './store.js';

/** Input columns of a run, in the order of its study's features (the target excluded). */
export function inputColumnsOfRun(run: Pick<RunRow, 'config'>): string[] {
  return inputColumns(run.config.study);
}
