// Sites: registered sites, connected or not, backend, last seen, key fingerprint, revoked or not.
// An admin registers (or re-keys) and revokes sites here.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { del, get, post } from './api.js';
import { ErrorText, when } from './format.js';
import { useLoad } from './load.js';

const SITE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function RegisterForm({ onDone }) {
  const [siteId, setSiteId] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    if (!SITE_ID.test(siteId)) return setError({ message: 'Site id: 1-128 letters, digits, dots, underscores, colons or hyphens.' });
    if (publicKey.trim().length < 64) return setError({ message: 'Public key: 64 hex digits, or the text of the site\u2019s site.pub.' });
    try {
      const res = await post('/v1/sites', { siteId, publicKey: publicKey.trim() });
      setError(null);
      setDone(`${res.site.id}: ${res.change}`);
      setSiteId('');
      setPublicKey('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`
    <form class="inline" onSubmit=${submit} noValidate aria-labelledby="register-title">
      <h2 id="register-title">Register a site</h2>
      <label for="site-id">Site id</label>
      <input id="site-id" value=${siteId} onInput=${(e) => setSiteId(e.currentTarget.value)} />
      <label for="site-key">Public key (site.pub)</label>
      <input id="site-key" value=${publicKey} onInput=${(e) => setPublicKey(e.currentTarget.value)} />
      <button type="submit">Register</button>
      ${done ? html`<p role="status">${done}</p>` : null}
      <${ErrorText} error=${error} />
    </form>`;
}

export function SitesPage({ role }) {
  const [data, error, reload] = useLoad(() => get('/v1/sites'), []);
  const [actionError, setActionError] = useState(null);
  const admin = role === 'admin';
  const revoke = async (id) => {
    try {
      await del(`/v1/sites/${encodeURIComponent(id)}`);
      setActionError(null);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  return html`
    <h1>Sites</h1>
    ${admin ? html`<${RegisterForm} onDone=${reload} />` : null}
    <${ErrorText} error=${error ?? actionError} />
    ${data === null ? null : html`
      <table data-testid="sites">
        <caption>${data.sites.length} registered sites</caption>
        <thead><tr><th scope="col">site</th><th scope="col">connected</th><th scope="col">backend</th><th scope="col">heartbeat</th><th scope="col">last seen (UTC)</th><th scope="col">key fingerprint</th><th scope="col">revoked</th>${admin ? html`<th scope="col">action</th>` : null}</tr></thead>
        <tbody>${data.sites.map((s) => html`<tr>
          <td>${s.id}</td>
          <td><span class=${s.connected ? 'ok' : 'muted'}>${s.connected ? 'connected' : 'not connected'}</span></td>
          <td>${s.backend ?? '–'}</td>
          <td>${s.pingMs === null ? '–' : `${s.pingMs} ms`}</td>
          <td>${when(s.lastSeenAt)}</td>
          <td><code title=${`public key ${s.publicKey}`}>${s.keyFingerprint}</code></td>
          <td>${s.revoked ? html`<span class="bad">revoked ${when(s.revokedAt)}</span>` : 'no'}</td>
          ${admin ? html`<td>${s.revoked ? '' : html`<button type="button" class="secondary" aria-label=${`revoke ${s.id}`} onClick=${() => revoke(s.id)}>Revoke</button>`}</td>` : null}
        </tr>`)}</tbody>
      </table>`}`;
}
