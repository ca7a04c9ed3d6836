// Runs: every run with its status; a data scientist also launches, cancels and compares runs.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { get, post } from './api.js';
import { ErrorText, when } from './format.js';
import { useLoad } from './load.js';
import { Chart } from './chart.js';

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

function LaunchForm({ onLaunched }) {
  const [form, setForm] = useState({ study: 'synthetic-warfarin', strategy: 'fedavg', rounds: '5', minSites: '2' });
  const [error, setError] = useState(null);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const rounds = Number(form.rounds);
    const minSites = Number(form.minSites);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10000) return setError({ message: 'Rounds must be a whole number from 1 to 10000.' });
    if (!Number.isInteger(minSites) || minSites < 1) return setError({ message: 'Minimum sites must be a whole number of at least 1.' });
    setError(null);
    try {
      const run = await post('/v1/runs', { study: form.study, strategy: form.strategy, rounds, minSites });
      onLaunched(run);
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <form class="inline" onSubmit=${submit} noValidate aria-labelledby="launch-title">
      <h2 id="launch-title">Launch a run</h2>
      <label for="launch-study">Study</label>
      <input id="launch-study" value=${form.study} onInput=${set('study')} />
      <label for="launch-strategy">Strategy</label>
      <select id="launch-strategy" value=${form.strategy} onChange=${set('strategy')}>
        ${['fedavg', 'fedprox', 'fedadam', 'exact'].map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <label for="launch-rounds">Rounds</label>
      <input id="launch-rounds" type="number" min="1" max="10000" value=${form.rounds} onInput=${set('rounds')} />
      <label for="launch-min-sites">Minimum sites</label>
      <input id="launch-min-sites" type="number" min="1" value=${form.minSites} onInput=${set('minSites')} />
      <button type="submit">Launch</button>
      <${ErrorText} error=${error} />
    </form>`;
}

function Compare({ ids }) {
  const [runs, error] = useLoad(() => Promise.all(ids.map((id) => get(`/v1/runs/${id}`))), [ids.join(',')]);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (runs === null) return html`<p>Loading…</p>`;
  const series = runs.map((r) => ({ label: r.id, values: new Map(r.rounds.filter((x) => typeof x.metrics.evalMetric === 'number').map((x) => [x.round, x.metrics.evalMetric])) }));
  return html`
    <section aria-labelledby="compare-title">
      <h2 id="compare-title">Comparison</h2>
      <${Chart} title=${`Held-out ${runs[0].metric} per round`} yLabel=${runs[0].metric} series=${series} testId="compare-chart" />
      <table>
        <caption>Best round of each run</caption>
        <thead><tr><th scope="col">run</th><th scope="col">study</th><th scope="col">strategy</th><th scope="col">rounds</th><th scope="col">best round</th><th scope="col">${runs[0].metric} at best</th></tr></thead>
        <tbody>${runs.map((r) => {
          const best = r.rounds.find((x) => x.round === r.bestRound) ?? r.rounds.at(-1);
          return html`<tr><td>${r.id}</td><td>${r.study}</td><td>${r.config.strategy}</td><td>${r.rounds.length}</td><td>${r.bestRound ?? '–'}</td><td>${best?.metrics.evalMetric?.toFixed(3) ?? '–'}</td></tr>`;
        })}</tbody>
      </table>
    </section>`;
}

export function RunsPage({ role }) {
  const [data, error, reload] = useLoad(() => get('/v1/runs?limit=200'), []);
  const [picked, setPicked] = useState([]);
  const [comparing, setComparing] = useState(null);
  const [actionError, setActionError] = useState(null);
  const scientist = role === 'data-scientist';
  const cancel = async (id) => {
    try {
      await post(`/v1/runs/${id}/cancel`);
      setActionError(null);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const toggle = (id) => setPicked(picked.includes(id) ? picked.filter((x) => x !== id) : [...picked, id]);
  return html`
    <h1>Runs</h1>
    ${scientist ? html`<${LaunchForm} onLaunched=${(run) => { location.hash = `#/runs/${run.id}`; }} />` : null}
    <${ErrorText} error=${error ?? actionError} />
    ${data === null ? (error ? null : html`<p>Loading…</p>`) : html`
      <table data-testid="runs">
        <caption>${data.runs.length} runs, newest first</caption>
        <thead><tr>
          ${scientist ? html`<th scope="col">compare</th>` : null}
          <th scope="col">run</th><th scope="col">status</th><th scope="col">study</th><th scope="col">strategy</th>
          <th scope="col">rounds</th><th scope="col">best</th><th scope="col">created (UTC)</th><th scope="col">ended (UTC)</th><th scope="col">error or stop reason</th>
          ${scientist ? html`<th scope="col">action</th>` : null}
        </tr></thead>
        <tbody>${data.runs.map((r) => html`<tr>
          ${scientist ? html`<td><input type="checkbox" id=${`pick-${r.id}`} aria-label=${`compare ${r.id}`} checked=${picked.includes(r.id)} onChange=${() => toggle(r.id)} /></td>` : null}
          <td><a href=${`#/runs/${r.id}`}>${r.id}</a></td>
          <td><span class=${`status ${r.status}`}>${r.status}</span></td>
          <td>${r.study}</td><td>${r.strategy}</td><td>${r.roundsDone}/${r.roundsPlanned}</td><td>${r.bestRound ?? '–'}</td>
          <td>${when(r.createdAt)}</td><td>${when(r.endedAt)}</td>
          <td class="reason">${r.error ?? r.stopReason ?? (r.cancelRequestedAt ? `cancel requested by ${r.cancelRequestedBy}` : '')}</td>
          ${scientist ? html`<td>${FINISHED.has(r.status) ? '' : html`<button type="button" class="secondary" onClick=${() => cancel(r.id)} aria-label=${`cancel ${r.id}`}>Cancel</button>`}</td>` : null}
        </tr>`)}</tbody>
      </table>
      ${scientist ? html`<button type="button" disabled=${picked.length < 2} onClick=${() => setComparing([...picked])}>Compare ${picked.length} selected runs</button>` : null}
      ${comparing ? html`<${Compare} ids=${comparing} />` : null}`}`;
}
