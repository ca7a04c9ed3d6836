// A line chart of values per round (uPlot). `series`: [{ label, values: Map(round → value) }].
// The container carries data-points (points drawn, all series) so tests and people can tell
// that it grew.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

// Distinct hues, each at least 3:1 against white (the chart's background).
const COLOURS = ['#1f4e9c', '#b3261e', '#1e6b2f', '#7a3fa0', '#8a5300', '#006d77', '#5c5c5c', '#a0315f'];

function tableOf(series) {
  const rounds = [...new Set(series.flatMap((s) => [...s.values.keys()]))].sort((a, b) => a - b);
  return [rounds, ...series.map((s) => rounds.map((r) => s.values.get(r) ?? null))];
}

export function Chart({ title, series, yLabel, testId }) {
  const box = useRef(null);
  const plot = useRef(null);
  const data = tableOf(series);
  const points = series.reduce((n, s) => n + s.values.size, 0);
  const shape = series.map((s) => s.label).join('\u0000');
  useEffect(() => {
    const opts = {
      width: 520,
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 'round' }, { label: yLabel }],
      series: [{ label: 'round' }, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: s.label === 'global' ? 3 : 1.5, spanGaps: true, points: { show: true, size: 5 } }))],
    };
    plot.current = new uPlot(opts, data, box.current);
    return () => plot.current.destroy();
  }, [shape, yLabel]);
  useEffect(() => {
    plot.current?.setData(data);
  });
  return html`<figure class="chart" data-testid=${testId} data-points=${points}>
    <figcaption>${title}</figcaption>
    <div ref=${box} role="img" aria-label=${`${title}: ${points} points`}></div>
  </figure>`;
}

/** Two series sets from a run's rounds: global and per site, for one metric key of each. */
export function seriesOf(rounds, globalKey, siteKey) {
  const global = new Map();
  const sites = new Map();
  for (const r of rounds) {
    if (typeof r.metrics?.[globalKey] === 'number') global.set(r.round, r.metrics[globalKey]);
    for (const s of r.sites ?? []) {
      if (typeof s[siteKey] !== 'number') continue;
      if (!sites.has(s.siteId)) sites.set(s.siteId, new Map());
      sites.get(s.siteId).set(r.round, s[siteKey]);
    }
  }
  return [{ label: 'global', values: global }, ...[...sites].sort(([a], [b]) => a.localeCompare(b)).map(([label, values]) => ({ label, values }))];
}
