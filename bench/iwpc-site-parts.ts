// Each IWPC site's rows as its agent splits them, for benchmarks that run the federation in
// process: the held-out part unchanged (iwpcTestSplit), an optional validation part, and without
// one the calibration share set aside as the agents do (shared/holdout.ts).

import type { IwpcRecord, IwpcSplit } from '../datasets/iwpc.js';
import { calibrationSplit, DEFAULT_CALIBRATION_FRACTION, siteSplit } from '../shared/holdout.js';
import { DEFAULT_MIN_ROWS, type Study } from '../shared/study.js';

export interface IwpcSiteParts {
  siteId: string;
  /** The rows the site trains on. */
  fit: IwpcRecord[];
  /** Its validation part (empty without one). */
  val: IwpcRecord[];
}

/** `fraction`: the validation part's share of each site's training part; undefined for none. */
export function iwpcSiteParts(study: Study, split: IwpcSplit, fraction: number | undefined): IwpcSiteParts[] {
  return split.sites.map((s) => {
    // site.train is the training part in hold-out order; its indices into the training part
    // shuffle exactly as the agent's row indices do.
    const idx = siteSplit(s.train.length + s.test.length, study.holdout, fraction, s.siteId);
    const byRow = new Map(idx.test.map((row, i) => [row, s.test[i]!]));
    const holdoutTrain = siteSplit(s.train.length + s.test.length, study.holdout, undefined, s.siteId).train;
    holdoutTrain.forEach((row, i) => byRow.set(row, s.train[i]!));
    // Without a validation part the agent sets a calibration share of its training part aside.
    const minRows = study.minRows ?? DEFAULT_MIN_ROWS;
    const aside = new Set(fraction === undefined ? calibrationSplit(idx.train, study.calibration?.fraction ?? DEFAULT_CALIBRATION_FRACTION, study.holdout.seed, s.siteId, minRows).calibration : []);
    return { siteId: s.siteId, fit: idx.train.filter((r) => !aside.has(r)).map((r) => byRow.get(r)!), val: idx.validation.map((r) => byRow.get(r)!) };
  });
}
