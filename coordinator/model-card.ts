// A committed model's card, read from the ledger entry that committed it, its run and its round:
// the study and its features, the training sites and their row counts, held-out figures overall
// and per site, and the interval's calibration.

import { runStudy } from '../shared/expand-study.js';
import { FedrxError } from '../shared/errors.js';
import { groupingFeature, isRegression, studyMetrics, type Study } from '../shared/study.js';
import { GROUP_PREFIX, groupsFromMetrics } from './rounds/group-metrics.js';
import type { ModelCard } from './http/schemas/model-card.js';
import type { Store } from './store/store.js';

type Feature = Study['features'][number];

function featureCard(f: Feature): ModelCard['study']['features'][number] {
  switch (f.kind) {
    case 'numeric':
      return {
        name: f.name,
        kind: f.kind,
        ...(f.unit === undefined ? {} : { unit: f.unit }),
        ...(f.min === undefined || f.max === undefined ? {} : { range: [f.min, f.max] as [number, number] }),
      };
    case 'binary':
      return { name: f.name, kind: f.kind };
    default:
      return { name: f.name, kind: f.kind, levels: [...f.levels] };
  }
}

/** Held-out rows below which a group's figures are flagged as noisy on the card. */
export const SMALL_GROUP_ROWS = 30;

function perGroup(study: Study, metrics: Readonly<Record<string, number>>): Pick<ModelCard['metrics'], 'perGroup'> {
  const by = groupingFeature(study);
  const figures = groupsFromMetrics(metrics);
  if (by === null || figures.size === 0) return {};
  const groups = by.levels.flatMap((level) => {
    const { n, ...rest } = figures.get(level) ?? {};
    return n === undefined ? [] : [{ level, n, small: n < SMALL_GROUP_ROWS, metrics: rest }];
  });
  return { perGroup: { column: by.name, groups } };
}

export function modelCard(store: Store, modelHash: string): ModelCard {
  const entry = store.ledger.byModelHash(modelHash);
  const run = entry === null ? null : store.getRun(entry.runId);
  if (entry === null || run === null) throw new FedrxError('E_NOT_FOUND', `no committed model ${modelHash}`);
  // Feature groups expanded as the run fixed them at round 0: the inputs the model reads.
  const study = run.preprocessing === null ? run.config.study : runStudy(run.config.study, run.preprocessing);
  const round = store.rounds(run.id).find((r) => r.round === entry.round);
  const metric = studyMetrics(study)[0]!;
  const unit = isRegression(study) ? study.target.unit : undefined;
  return {
    modelHash,
    runId: entry.runId,
    round: entry.round,
    ledgerIndex: entry.index,
    entryHash: entry.entryHash,
    study: {
      name: study.name,
      target: { name: study.target.name, ...(unit === undefined ? {} : { unit }), kind: study.task },
      features: study.features.map(featureCard),
    },
    sites: entry.participants.map((p) => ({ siteId: p.siteId, numExamples: p.numExamples })),
    metrics: {
      overall: Object.fromEntries(Object.entries(entry.metrics).filter(([k]) => !k.startsWith(GROUP_PREFIX))),
      perSite: (round?.sites ?? [])
        .filter((s) => s.evalExamples !== undefined)
        .map((s) => ({
          siteId: s.siteId,
          evalExamples: s.evalExamples!,
          ...(s.evalLoss === undefined ? {} : { evalLoss: s.evalLoss }),
          metric,
          ...(s.evalMetric === undefined ? {} : { evalMetric: s.evalMetric }),
        })),
      ...perGroup(study, entry.metrics),
    },
    ...(entry.conformal === undefined ? {} : { interval: entry.conformal }),
  };
}
