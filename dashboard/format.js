// Small display helpers shared by the pages.
import { html } from './html.js';

export const short = (hash) => (typeof hash === 'string' ? hash.slice(0, 12) : '–');
export const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');
export const num = (v, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : '–');

/** A hash shown short, whole in its title and readable by a screen reader. */
export const Hash = ({ value }) => html`<code class="hash" title=${value ?? ''}>${short(value)}</code>`;

/** An error as a coded message, announced to screen readers. */
export const ErrorText = ({ error }) =>
  error ? html`<p class="error" role="alert">${error.code ? html`<strong>${error.code}</strong>: ` : ''}${error.message}</p>` : null;
