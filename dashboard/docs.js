// /docs: the OpenAPI description (/docs/json) as a page, rendered here so that it works offline.
import { render } from 'preact';
import { html } from './html.js';
import { useLoad } from './load.js';

const json = (v) => JSON.stringify(v, null, 2);

function Operation({ path, method, op }) {
  const params = op.parameters ?? [];
  const body = op.requestBody?.content?.['application/json']?.schema;
  return html`<details class="op">
    <summary><span class=${`method ${method}`}>${method.toUpperCase()}</span> <code>${path}</code> <span class="muted">${op.description ?? ''}</span></summary>
    ${params.length > 0 ? html`<table class="compact"><caption>Parameters</caption>
      <thead><tr><th scope="col">name</th><th scope="col">in</th><th scope="col">required</th><th scope="col">schema</th></tr></thead>
      <tbody>${params.map((p) => html`<tr><td>${p.name}</td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${JSON.stringify(p.schema)}</code></td></tr>`)}</tbody></table>` : null}
    ${body ? html`<h4>Request body</h4><pre>${json(body)}</pre>` : null}
    ${Object.entries(op.responses ?? {}).map(([status, r]) => html`<h4>Response ${status}</h4><pre>${json(r.content?.['application/json']?.schema ?? r.description)}</pre>`)}
  </details>`;
}

function Docs() {
  const [spec, error] = useLoad(() => fetch('/docs/json').then((r) => r.json()), []);
  if (error) return html`<p class="error" role="alert">${error.message}</p>`;
  if (spec === null) return html`<p>Loading…</p>`;
  return html`<main id="main">
    <h1>${spec.info.title} REST API <span class="muted">${spec.info.version}</span></h1>
    <p>${spec.info.description}</p>
    <p>The machine-readable description: <a href="/docs/json">/docs/json</a> (OpenAPI ${spec.openapi}). The dashboard: <a href="/">/</a>.</p>
    ${Object.entries(spec.paths).map(([path, ops]) => Object.entries(ops).map(([method, op]) => html`<${Operation} path=${path} method=${method} op=${op} />`))}
  </main>`;
}

render(html`<${Docs} />`, document.getElementById('app'));
