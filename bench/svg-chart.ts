// A small dependency-free SVG line chart: one line per series over rounds, with axes, ticks and
// a legend. Enough to look at convergence curves in a browser or an image viewer.

export interface Series {
  label: string;
  points: { x: number; y: number }[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(lo: number, hi: number, n: number): number[] {
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

export function lineChartSvg(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines, e.g. a baseline's value. */
  references?: { label: string; y: number }[];
  width?: number;
  height?: number;
}): string {
  const W = opts.width ?? 820;
  const H = opts.height ?? 480;
  const m = { left: 70, right: 230, top: 40, bottom: 55 };
  const all = opts.series.flatMap((s) => s.points);
  const refs = opts.references ?? [];
  const xs = all.map((p) => p.x);
  const ys = [...all.map((p) => p.y), ...refs.map((r) => r.y)].filter(Number.isFinite);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  const pad = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 1;
  const y0 = Math.min(...ys) - pad;
  const y1 = Math.max(...ys) + pad;
  const px = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (y: number): number => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`,
  ];
  for (const t of ticks(y0, y1, 6)) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${t.toFixed(2)}</text>`);
  }
  for (const t of ticks(x0, x1, Math.min(10, x1 - x0))) {
    out.push(`<text x="${px(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${Math.round(t)}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 15}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  refs.forEach((r) => {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(r.y)}" y2="${py(r.y)}" stroke="#555" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${W - m.right - 4}" y="${py(r.y) - 4}" text-anchor="end" fill="#555">${esc(r.label)}</text>`);
  });
  opts.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const ly = m.top + 10 + i * 20;
    out.push(`<line x1="${W - m.right + 15}" x2="${W - m.right + 40}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="3"/>`);
    out.push(`<text x="${W - m.right + 46}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
