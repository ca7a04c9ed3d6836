// One run: live curves of the headline metric and the loss per round, global and per site, fed
// by the coordinator's server-sent events (a push per committed round, no polling), and the
// table of its rounds: sites, rejected updates and why, model hash, ledger entry.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { get } from './api.js';
import { ErrorText, Hash, when } from './format.js';
import { Chart, seriesOf } from './chart.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** Rounds by number: the history read once, then each pushed round added or replaced. */
const merge = (rounds, r) => [...rounds.filter((x) => x.round !== r.round), r].sort((a, b) => a.round - b.round);

function useLiveRun(id) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    let closed = false;
    // Subscribe first, then read the history, so no round falls between the two.
    const stream = new EventSource(`/v1/runs/${encodeURIComponent(id)}/events`);
    const pending = [];
    const reload = () => get(`/v1/runs/${id}`).then((r) => {
      if (closed) return;
      setRun({ ...r, rounds: pending.reduce(merge, r.rounds) });
    }, setError);
    stream.addEventListener('run', () => setLive(true));
    stream.addEventListener('round', (e) => {
      const r = JSON.parse(e.data);
      const row = { round: r.round, status: 'committed', modelHash: r.modelHash, ledgerIndex: r.ledgerIndex, metrics: r.metrics, sites: r.sites, endedAt: new Date().toISOString() };
      pending.push(row);
      setRun((old) => (old === null ? old : { ...old, rounds: merge(old.rounds, row) }));
    });
    stream.addEventListener('end', () => {
      stream.close();
      setLive(false);
      reload();
    });
    stream.onerror = () => {
      // Closed by the server after a finished run's first event, or lost: the history stands.
      if (stream.readyState === EventSource.CLOSED) setLive(false);
    };
    reload();
    return () => {
      closed = true;
      stream.close();
    };
  }, [id]);
  return { run, error, live: live && run !== null && !FINISHED.has(run.status) };
}

function SiteCell({ sites }) {
  const accepted = sites.filter((s) => s.status === 'accepted');
  const others = sites.filter((s) => s.status !== 'accepted');
  return html`<td>
    ${accepted.map((s) => s.siteId).join(', ')}
    ${others.length > 0 ? html`<ul class="rejected">${others.map((s) => html`<li><strong>${s.siteId}</strong> ${s.status}${s.code ? ` (${s.code})` : ''}${s.reason ? `: ${s.reason}` : ''}</li>`)}</ul>` : null}
  </td>`;
}

export function RunPage({ id }) {
  const { run, error, live } = useLiveRun(id);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (run === null) return html`<p>Loading…</p>`;
  const training = run.rounds.filter((r) => r.round > 0);
  return html`
    <p><a href="#/runs">← all runs</a></p>
    <h1>Run ${run.id}</h1>
    <dl class="facts">
      <dt>status</dt><dd><span class=${`status ${run.status}`} data-testid="run-status">${run.status}</span>${live ? html` <span class="live" role="status">live</span>` : null}</dd>
      <dt>study</dt><dd>${run.study}</dd>
      <dt>strategy</dt><dd>${run.config.strategy}</dd>
      <dt>rounds</dt><dd>${training.length} of ${run.config.rounds}</dd>
      <dt>best round (served)</dt><dd>${run.bestRound ?? '–'}</dd>
      <dt>config hash</dt><dd><${Hash} value=${run.configHash} /></dd>
      ${run.error ? html`<dt>error</dt><dd class="reason">${run.error}</dd>` : null}
      ${run.stopReason ? html`<dt>stop reason</dt><dd class="reason">${run.stopReason}</dd>` : null}
    </dl>
    <div class="charts">
      <${Chart} title=${`Held-out ${run.metric} per round`} yLabel=${run.metric} series=${seriesOf(training, 'evalMetric', 'evalMetric')} testId="metric-chart" />
      <${Chart} title="Held-out loss per round" yLabel="loss" series=${seriesOf(training, 'evalLoss', 'evalLoss')} testId="loss-chart" />
    </div>
    <table data-testid="rounds">
      <caption>Rounds</caption>
      <thead><tr><th scope="col">round</th><th scope="col">status</th><th scope="col">sites (accepted; others and why)</th><th scope="col">${run.metric}</th><th scope="col">model</th><th scope="col">ledger entry</th><th scope="col">ended (UTC)</th></tr></thead>
      <tbody>${run.rounds.map((r) => html`<tr>
        <td>${r.round}</td><td>${r.status}${r.error ? html`<div class="reason">${r.error}</div>` : null}</td>
        <${SiteCell} sites=${r.sites ?? []} />
        <td>${typeof r.metrics.evalMetric === 'number' ? r.metrics.evalMetric.toFixed(3) : '–'}</td>
        <td>${r.modelHash ? html`<a href=${`#/card/${r.modelHash}`}><${Hash} value=${r.modelHash} /></a>` : '–'}</td>
        <td>${r.ledgerIndex === null || r.ledgerIndex === undefined ? '–' : `#${r.ledgerIndex}`}</td>
        <td>${when(r.endedAt)}</td>
      </tr>`)}</tbody>
    </table>`;
}
