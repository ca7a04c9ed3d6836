// The dashboard shell: sign-in, then a navigation bar with the pages of the signed-in role and
// the page the address names (#/runs, #/runs/ID, #/sites, #/ledger, #/predict, #/card/HASH).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { ApiError, del, get, useSession } from './api.js';
import { PAGES, pagesFor, parseHash } from './pages.js';
import { SignIn } from './signin.js';
import { RunsPage } from './runs.js';
import { RunPage } from './run.js';
import { SitesPage } from './sites.js';
import { LedgerPage } from './ledger.js';
import { PredictPage } from './predict.js';
import { CardPage } from './card.js';

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseHash(hash);
}

function Page({ route, role }) {
  const allowed = pagesFor(role);
  const page = PAGES.find((p) => p.id === route.page);
  if (page === undefined) return html`<p>Choose a page above.</p>`;
  if (!allowed.includes(page)) {
    return html`<p class="error" role="alert">The ${page.title} page is not available to the ${role} role.</p>`;
  }
  if (page.id === 'runs') return route.arg ? html`<${RunPage} id=${route.arg} role=${role} />` : html`<${RunsPage} role=${role} />`;
  if (page.id === 'sites') return html`<${SitesPage} role=${role} />`;
  if (page.id === 'ledger') return html`<${LedgerPage} />`;
  if (page.id === 'predict') return html`<${PredictPage} />`;
  return html`<${CardPage} modelHash=${route.arg} role=${role} />`;
}

function App() {
  // undefined: asking the coordinator whether a session is open; null: signed out.
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const route = useHash();
  const signedIn = (s) => {
    useSession(s, (err) => {
      setNotice(err);
      setSession(null);
    });
    setSession(s);
    if (s !== null && !pagesFor(s.role).some((p) => p.id === parseHash(location.hash).page)) location.hash = `#/${pagesFor(s.role)[0].id}`;
  };
  useEffect(() => {
    get('/v1/session').then(signedIn, (err) => {
      if (err instanceof ApiError && err.code === 'E_SESSION_EXPIRED') setNotice(err);
      signedIn(null);
    });
  }, []);
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) return html`<${SignIn} notice=${notice} onSignedIn=${(s) => { setNotice(null); signedIn(s); }} />`;
  const signOut = async () => {
    await del('/v1/session').catch(() => {});
    signedIn(null);
  };
  return html`
    <header class="top">
      <span class="brand">fedrx</span>
      <nav aria-label="Pages">
        <ul>
          ${pagesFor(session.role).map((p) => html`<li><a href=${`#/${p.id}`} aria-current=${route.page === p.id ? 'page' : undefined}>${p.title}</a></li>`)}
        </ul>
      </nav>
      <span class="who">Signed in as <strong data-testid="who">${session.label ?? session.tokenId}</strong> (${session.role})</span>
      <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main"><${Page} route=${route} role=${session.role} /></main>`;
}

render(html`<${App} />`, document.getElementById('app'));
