// Model card of a committed model: the study and its features, the training sites and their row
// counts (never rows), held-out metrics overall, per site and per group, the interval coverage
// and the ledger entry. From GET /v1/models/:hash/card where the coordinator has it; otherwise
// from what the run, the ledger and the model's inputs already tell this role.
import { html } from './html.js';
import { ApiError, get } from './api.js';
import { ErrorText, Hash, num } from './format.js';
import { useLoad } from './load.js';

const READS_RUNS = new Set(['data-scientist', 'auditor']);

/** The model a card without a hash shows: the one a clinician is served, or the newest run's kept model. */
async function defaultModel(role) {
  if (!READS_RUNS.has(role)) return (await get('/v1/model/form')).modelHash;
  const { runs } = await get('/v1/runs?limit=20');
  for (const r of runs) {
    const run = await get(`/v1/runs/${r.id}`);
    const kept = run.rounds.find((x) => x.round === run.bestRound) ?? [...run.rounds].reverse().find((x) => x.modelHash && x.round > 0);
    if (kept?.modelHash) return kept.modelHash;
  }
  throw new ApiError(404, 'E_NO_MODEL', 'no committed model yet');
}

/** The card as the route gives it, or the same shape from the routes this role may call. */
async function loadCard(modelHash, role) {
  try {
    return await get(`/v1/models/${modelHash}/card`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404 || !/no route/.test(err.message)) throw err;
  }
  if (!READS_RUNS.has(role)) {
    const form = await get(`/v1/model/form?modelHash=${modelHash}`);
    return {
      modelHash, runId: form.runId, round: form.round, ledgerIndex: form.ledgerIndex, entryHash: form.entryHash,
      study: { name: form.study, target: { name: form.target.name, unit: form.target.unit, kind: form.task }, features: (form.fields ?? []).map((f) => ({ name: f.column, kind: f.kind, unit: f.unit, range: f.min !== undefined || f.max !== undefined ? [f.min, f.max] : undefined, levels: f.levels })) },
      sites: null, metrics: null,
    };
  }
  const { entries } = await get(`/v1/ledger?limit=5000`);
  const entry = entries.find((e) => e.modelHash === modelHash);
  if (entry === undefined) throw new ApiError(404, 'E_NO_MODEL', `model ${modelHash} is not on the ledger`);
  const run = await get(`/v1/runs/${entry.runId}`);
  const round = run.rounds.find((r) => r.round === entry.round);
  const perSite = (round?.sites ?? []).filter((s) => s.evalMetric !== undefined).map((s) => ({ siteId: s.siteId, [run.metric]: s.evalMetric, loss: s.evalLoss, n: s.evalExamples }));
  return {
    modelHash, runId: entry.runId, round: entry.round, ledgerIndex: entry.index, entryHash: entry.entryHash,
    study: { name: run.study, target: { name: '' }, features: null },
    sites: entry.participants.map((p) => ({ siteId: p.siteId, numExamples: p.numExamples })),
    metrics: { overall: { [run.metric]: entry.metrics.evalMetric, loss: entry.metrics.evalLoss }, perSite },
  };
}

// Headings for the card's field names; metric names are shown as they come.
const HEADING = { siteId: 'site', numExamples: 'training rows', n: 'held-out rows', level: 'group', scope: 'sites' };
const heading = (k) => HEADING[k] ?? k;

const MetricTable = ({ caption, rows, key }) => {
  if (!rows || rows.length === 0) return null;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k !== key)))];
  return html`<table class="compact"><caption>${caption}</caption>
    <thead><tr><th scope="col">${heading(key)}</th>${cols.map((c) => html`<th scope="col">${heading(c)}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr><td>${r[key]}</td>${cols.map((c) => html`<td>${typeof r[c] === 'number' ? num(r[c]) : r[c] ?? ''}</td>`)}</tr>`)}</tbody></table>`;
};

export function CardPage({ modelHash, role }) {
  const [card, error] = useLoad(async () => loadCard(modelHash ?? (await defaultModel(role)), role), [modelHash, role]);
  if (error) return html`<h1>Model card</h1><${ErrorText} error=${error} />`;
  if (card === null) return html`<p>Loading…</p>`;
  const t = card.study.target;
  return html`
    <h1>Model card</h1>
    <dl class="facts" data-testid="card">
      <dt>model</dt><dd><${Hash} value=${card.modelHash} /></dd>
      <dt>run, round</dt><dd>${card.runId}, round ${card.round}</dd>
      <dt>ledger entry</dt><dd>#${card.ledgerIndex} <${Hash} value=${card.entryHash} /></dd>
      <dt>study</dt><dd>${card.study.name}</dd>
      ${t.name ? html`<dt>predicts</dt><dd>${t.name}${t.unit ? ` (${t.unit})` : ''}${t.kind ? `, ${t.kind}` : ''}</dd>` : null}
      ${card.interval ? html`<dt>interval</dt><dd>${card.interval.kind === 'set' ? 'prediction sets' : 'prediction intervals'} at ${Math.round(card.interval.coverage * 100)}% coverage, calibrated on ${card.interval.calibrationRows} rows at ${card.interval.sites} sites (quantile ${num(card.interval.quantile)})</dd>` : html`<dt>interval</dt><dd class="muted">none recorded for this model</dd>`}
    </dl>
    ${card.study.features ? html`<table class="compact"><caption>Features</caption>
      <thead><tr><th scope="col">name</th><th scope="col">kind</th><th scope="col">unit</th><th scope="col">range or levels</th></tr></thead>
      <tbody>${card.study.features.map((f) => html`<tr><td>${f.name}</td><td>${f.kind}</td><td>${f.unit ?? ''}</td><td>${f.levels ? f.levels.join(', ') : f.range ? `${f.range[0] ?? '−∞'} – ${f.range[1] ?? '∞'}` : ''}</td></tr>`)}</tbody></table>` : null}
    ${card.sites ? html`<${MetricTable} caption="Training sites (row counts, never rows)" rows=${card.sites} key="siteId" />` : null}
    ${card.metrics ? html`
      <${MetricTable} caption="Held-out metrics, overall" rows=${[{ scope: 'all sites', ...card.metrics.overall }]} key="scope" />
      <${MetricTable} caption="Held-out metrics per site" rows=${card.metrics.perSite} key="siteId" />
      ${card.metrics.perGroup ? html`<${MetricTable} caption=${`Held-out metrics per ${card.metrics.perGroup.column}`} rows=${card.metrics.perGroup.groups} key="level" />` : null}` : null}
    ${card.sites === null ? html`<p class="muted">Training sites and held-out metrics are shown to data scientists and auditors.</p>` : null}`;
}
