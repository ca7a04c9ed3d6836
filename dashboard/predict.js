// Predict: a form generated from the served model's study (numeric fields with units and ranges,
// genotype and categorical fields with their levels), checked in the browser before anything is
// sent; the answer with its interval when the model has one, the model hash, the ledger entry
// and this request's audit row. A clinic's CSV is cut down to the model's input columns here,
// scored as one table, and the results can be downloaded.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { get, post } from './api.js';
import { ErrorText, Hash, when } from './format.js';
import { useLoad } from './load.js';
import { cellValue, parseCsv, toCsv } from './csv.js';

const label = (f) => `${f.column}${f.unit ? ` (${f.unit})` : ''}`;

/** The inline message for one field's text, or null when it may be sent. */
export function fieldProblem(f, text) {
  if (text === '') return f.required ? `${f.column} is required.` : null;
  if (f.levels) return f.levels.includes(text) ? null : `${f.column} must be one of ${f.levels.join(', ')}.`;
  if (f.codes && f.codes.includes(text)) return null;
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x)) return `${f.column} must be a number.`;
  if ((f.min !== undefined && x < f.min) || (f.max !== undefined && x > f.max)) {
    return `${f.column} must be between ${f.min ?? '−∞'} and ${f.max ?? '∞'}${f.unit ? ` ${f.unit}` : ''}.`;
  }
  return null;
}

const Interval = ({ p }) =>
  p.interval
    ? html`<span data-testid="interval">${Math.round(p.interval.coverage * 100)}% interval ${p.interval.lower.toFixed(1)} – ${p.interval.upper.toFixed(1)}</span>`
    : p.set
      ? html`<span data-testid="interval">prediction set {${p.set.join(', ')}}</span>`
      : html`<span class="muted" data-testid="interval">no calibrated interval for this model</span>`;

function Field({ f, value, problem, onInput }) {
  const id = `f-${f.column.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const describedBy = `${id}-help${problem ? ` ${id}-err` : ''}`;
  const help = [f.kind, f.min !== undefined || f.max !== undefined ? `range ${f.min ?? '−∞'}–${f.max ?? '∞'}${f.unit ? ` ${f.unit}` : ''}` : '', f.required ? 'required' : f.imputes ? `helps impute ${f.imputes}` : 'may be left empty'].filter(Boolean).join(' · ');
  const common = { id, name: f.column, 'aria-invalid': problem ? 'true' : undefined, 'aria-describedby': describedBy, onInput: (e) => onInput(e.currentTarget.value), onChange: (e) => onInput(e.currentTarget.value) };
  return html`<div class="field">
    <label for=${id}>${label(f)}</label>
    ${f.levels
      ? html`<select ...${common} value=${value}><option value="">${f.required ? 'choose…' : '(unknown)'}</option>${f.levels.map((l) => html`<option value=${l}>${f.kind === 'binary' ? (l === '1' ? 'yes (1)' : 'no (0)') : l}</option>`)}</select>`
      : html`<input ...${common} type="text" inputmode="decimal" value=${value} />`}
    <span id=${`${id}-help`} class="help">${help}</span>
    ${problem ? html`<span id=${`${id}-err`} class="field-error">${problem}</span>` : null}
  </div>`;
}

function Answer({ p }) {
  return html`<section class="answer" aria-labelledby="answer-title" data-testid="answer">
    <h2 id="answer-title">Answer</h2>
    <p class="big"><span data-testid="prediction">${typeof p.prediction === 'number' ? p.prediction.toFixed(1) : p.prediction}</span> ${p.unit ?? ''}</p>
    <p><${Interval} p=${p} /></p>
    ${p.probabilities ? html`<p>${Object.entries(p.probabilities).map(([c, v]) => `${c} ${(v * 100).toFixed(1)}%`).join(' · ')}</p>` : null}
    <dl class="facts">
      <dt>model</dt><dd><a href=${`#/card/${p.modelHash}`}><${Hash} value=${p.modelHash} /></a> (run ${p.runId}, round ${p.round})</dd>
      <dt>ledger entry</dt><dd data-testid="ledger-entry">#${p.ledgerIndex} <${Hash} value=${p.entryHash} /></dd>
      ${p.audit ? html`<dt>audit log</dt><dd data-testid="audit-row">row #${p.audit.seq} at ${when(p.audit.at)}, input HMAC <${Hash} value=${p.audit.inputHash} /> (the input itself is not kept)</dd>` : null}
    </dl>
  </section>`;
}

function CsvUpload({ form }) {
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const upload = async (ev) => {
    const file = ev.currentTarget.files?.[0];
    if (!file) return;
    setResult(null);
    const records = parseCsv(await file.text());
    const header = records[0]?.cells ?? [];
    const missing = form.columns.filter((c) => !header.includes(c));
    if (records.length < 2 || missing.length > 0) {
      setError({ code: 'E_CSV_MISSING_COLUMN', message: records.length < 2 ? 'the file has no rows under its header' : `the file lacks the model's input columns ${missing.join(', ')}; nothing was sent` });
      return;
    }
    const at = form.columns.map((c) => header.indexOf(c));
    const idAt = form.idColumn === undefined ? -1 : header.indexOf(form.idColumn);
    const body = records.slice(1);
    // A broken line (another number of cells) is not sent: it fails alone, by its line number.
    const rows = body.filter((r) => r.cells.length === header.length);
    if (rows.length === 0) {
      setError({ code: 'E_MALFORMED_ROW', message: `no line has the header's ${header.length} cells; nothing was sent` });
      return;
    }
    try {
      const res = await post('/v1/predict/table', { modelHash: form.modelHash, columns: form.columns, rows: rows.map((r) => at.map((i) => cellValue(r.cells[i]))) });
      const answers = new Map(rows.map((r, i) => [r, res.predictions[i]]));
      const lines = body.map((r) => {
        const id = idAt < 0 ? '' : r.cells[idAt] ?? '';
        const a = answers.get(r);
        if (a === undefined) return { id, line: r.line, error: { code: 'E_MALFORMED_ROW', message: `line ${r.line}: ${r.cells.length} cells, the header has ${header.length}` } };
        return { id, line: r.line, ...a };
      });
      setError(null);
      setResult({ lines, modelHash: res.modelHash, ledgerIndex: res.ledgerIndex, audit: res.audit });
    } catch (err) {
      setError(err);
    }
  };
  const download = () => {
    const header = ['id', 'prediction', 'unit', 'interval_lower', 'interval_upper', 'coverage', 'error_code', 'error', 'model_hash'];
    const rows = result.lines.map((l) => [l.id, l.prediction ?? '', l.unit ?? '', l.interval?.lower ?? '', l.interval?.upper ?? '', l.interval?.coverage ?? '', l.error?.code ?? '', l.error?.message ?? '', result.modelHash]);
    const url = URL.createObjectURL(new Blob([toCsv(header, rows)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'predictions.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return html`<section aria-labelledby="csv-title">
    <h2 id="csv-title">A clinic's list (CSV)</h2>
    <p class="help">Only the model's ${form.columns.length} input columns are sent; names, record numbers and notes stay in this browser.</p>
    <label for="csv-file">CSV file with a header row</label>
    <input id="csv-file" type="file" accept=".csv,text/csv" onChange=${upload} />
    <${ErrorText} error=${error} />
    ${result ? html`
      <p role="status">${result.lines.length} rows scored by model <${Hash} value=${result.modelHash} />, ledger entry #${result.ledgerIndex}${result.audit ? `, audit row #${result.audit.seq}` : ''}.</p>
      <button type="button" onClick=${download}>Download results (CSV)</button>
      <table data-testid="csv-results">
        <caption>Predictions</caption>
        <thead><tr><th scope="col">line</th><th scope="col">id</th><th scope="col">prediction</th><th scope="col">interval</th><th scope="col">error</th></tr></thead>
        <tbody>${result.lines.map((l) => html`<tr><td>${l.line}</td><td>${l.id}</td><td>${typeof l.prediction === 'number' ? l.prediction.toFixed(1) : l.prediction ?? ''}</td><td>${l.interval ? `${l.interval.lower.toFixed(1)} – ${l.interval.upper.toFixed(1)}` : ''}</td><td>${l.error ? `${l.error.code}: ${l.error.message}` : ''}</td></tr>`)}</tbody>
      </table>` : null}
  </section>`;
}

export function PredictPage() {
  const [form, error] = useLoad(() => get('/v1/model/form'), []);
  const [values, setValues] = useState({});
  const [problems, setProblems] = useState({});
  const [answer, setAnswer] = useState(null);
  const [sendError, setSendError] = useState(null);
  if (error) return html`<h1>Predict</h1><${ErrorText} error=${error} />`;
  if (form === null) return html`<p>Loading…</p>`;
  const submit = async (e) => {
    e.preventDefault();
    const found = Object.fromEntries(form.fields.map((f) => [f.column, fieldProblem(f, values[f.column] ?? '')]).filter(([, p]) => p !== null));
    setProblems(found);
    if (Object.keys(found).length > 0) {
      document.getElementById(`f-${Object.keys(found)[0].replace(/[^A-Za-z0-9_-]/g, '_')}`)?.focus();
      return;
    }
    const features = Object.fromEntries(form.fields.map((f) => [f.column, values[f.column] ?? '']).filter(([, v]) => v !== '').map(([c, v]) => [c, cellValue(v)]));
    try {
      setAnswer(await post('/v1/predict', { modelHash: form.modelHash, features }));
      setSendError(null);
    } catch (err) {
      setSendError(err);
    }
  };
  return html`
    <h1>Predict ${form.target.name}${form.target.unit ? ` (${form.target.unit})` : ''}</h1>
    <p>Model <a href=${`#/card/${form.modelHash}`}><${Hash} value=${form.modelHash} /></a> of run ${form.runId}, round ${form.round}, ledger entry #${form.ledgerIndex}; study ${form.study}.</p>
    ${form.fields === null
      ? html`<p>This model reads ${form.columns.length} columns: score it from a CSV below.</p>`
      : html`<form class="grid" onSubmit=${submit} noValidate aria-labelledby="patient-title" data-testid="predict-form">
          <h2 id="patient-title">One patient</h2>
          ${form.fields.map((f) => html`<${Field} f=${f} value=${values[f.column] ?? ''} problem=${problems[f.column]} onInput=${(v) => setValues((old) => ({ ...old, [f.column]: v }))} />`)}
          <button type="submit">Predict</button>
        </form>`}
    <${ErrorText} error=${sendError} />
    ${answer ? html`<${Answer} p=${answer} />` : null}
    <${CsvUpload} form=${form} />`;
}
