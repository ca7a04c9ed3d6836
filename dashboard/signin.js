// Sign-in with an API token (from `fedrx token create`). The token is sent once; the browser
// then holds only the HttpOnly session cookie, and the page keeps the CSRF token in memory.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { post } from './api.js';
import { ErrorText } from './format.js';

export function SignIn({ notice, onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (token.trim() === '') {
      setError({ message: 'Enter an API token.' });
      return;
    }
    setBusy(true);
    try {
      const session = await post('/v1/session', { token: token.trim() });
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="signin">
      <h1>fedrx dashboard</h1>
      <p>Sign in with your API token. Its role decides what you see.</p>
      ${notice ? html`<p class="notice" role="status">${notice.message}</p>` : null}
      <form onSubmit=${submit} noValidate>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" value=${token}
          onInput=${(e) => setToken(e.currentTarget.value)} aria-describedby="token-help" />
        <p id="token-help" class="help">Starts with frx_. Made with <code>fedrx token create</code>; kept out of the browser's storage.</p>
        <${ErrorText} error=${error} />
        <button type="submit" disabled=${busy}>Sign in</button>
      </form>
    </main>`;
}
