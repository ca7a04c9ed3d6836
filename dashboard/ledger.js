// Ledger: the chain as a timeline (hashes, participants and their signatures, endorsements),
// verified on demand with the first bad entry highlighted, and compared with a site's replica
// uploaded as its ledger.jsonl.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { get, post } from './api.js';
import { ErrorText, Hash, when } from './format.js';
import { useLoad } from './load.js';

/** A replica file's entries, one JSON object per line; an unreadable line is named, not shown. */
export function parseReplica(text) {
  const entries = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    try {
      entries.push(JSON.parse(lines[i]));
    } catch {
      throw new Error(`line ${i + 1} of the replica is not JSON: is this a ledger.jsonl?`);
    }
  }
  return entries;
}

function Entry({ e, status, problems, bad, differs }) {
  const cls = ['entry', bad ? 'entry-bad' : '', differs ? 'entry-differs' : ''].filter(Boolean).join(' ');
  return html`<li class=${cls} id=${`entry-${e.index}`} data-testid=${bad ? 'first-bad' : differs ? 'first-difference' : undefined}>
    <h3>#${e.index} · run ${e.runId} round ${e.round} <span class="muted">${when(e.createdAt)}</span></h3>
    ${bad ? html`<p class="bad-reason" role="alert">First bad entry: ${bad}</p>` : null}
    <dl class="facts">
      <dt>entry hash</dt><dd><${Hash} value=${e.entryHash} /></dd>
      <dt>previous</dt><dd><${Hash} value=${e.prevHash} /></dd>
      <dt>model</dt><dd><a href=${`#/card/${e.modelHash}`}><${Hash} value=${e.modelHash} /></a>${e.parentModelHash ? html` from <${Hash} value=${e.parentModelHash} />` : null}</dd>
      <dt>config</dt><dd><${Hash} value=${e.configHash} /></dd>
      <dt>coordinator signature</dt><dd><code title=${e.coordinatorSignature}>${e.coordinatorSignature.slice(0, 16)}…</code></dd>
      <dt>endorsement</dt><dd>${status === undefined ? '–' : html`<span class=${status.endorsed ? 'ok' : 'warn'}>${status.endorsed ? 'endorsed' : 'not endorsed'}</span> by ${status.endorsedBy.length > 0 ? status.endorsedBy.join(', ') : 'no site'} (${status.required} of ${status.participants} needed)${status.invalid.length > 0 ? html` · <span class="bad">${status.invalid.length} invalid</span>` : null}`}</dd>
    </dl>
    ${e.participants.length > 0 ? html`<table class="compact">
      <caption>Participants</caption>
      <thead><tr><th scope="col">site</th><th scope="col">rows</th><th scope="col">update hash</th><th scope="col">signature</th></tr></thead>
      <tbody>${e.participants.map((p) => html`<tr><td>${p.siteId}</td><td>${p.numExamples}</td><td><${Hash} value=${p.updateHash} /></td><td><code title=${p.signature}>${p.signature.slice(0, 16)}…</code></td></tr>`)}</tbody>
    </table>` : null}
    ${problems && problems.length > 0 ? html`<ul class="problems">${problems.map((p) => html`<li>${p}</li>`)}</ul>` : null}
  </li>`;
}

function ReplicaDiff({ onDiff }) {
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const upload = async (ev) => {
    const file = ev.currentTarget.files?.[0];
    if (!file) return;
    setResult(null);
    try {
      const entries = parseReplica(await file.text());
      const diff = await post('/v1/ledger/diff', { entries });
      setError(null);
      setResult(diff);
      onDiff(diff.firstDifference?.index ?? null);
    } catch (err) {
      setError(err);
      onDiff(null);
    }
  };
  return html`<section aria-labelledby="diff-title">
    <h2 id="diff-title">Compare with a site's replica</h2>
    <label for="replica-file">Replica file (the site's ledger.jsonl)</label>
    <input id="replica-file" type="file" accept=".jsonl,application/json,text/plain" onChange=${upload} />
    <${ErrorText} error=${error} />
    ${result === null ? null : result.consistent
      ? html`<p class="ok" role="status" data-testid="diff-result">The replica agrees: ${result.commonPrefix} entries in common (replica ${result.leftLength}, coordinator ${result.rightLength})${result.leftLength > result.rightLength ? ' — but the coordinator holds fewer entries than the replica' : ''}.</p>`
      : html`<div class="bad-box" role="alert" data-testid="diff-result">
          <p>The replica differs from entry #${result.firstDifference.index} (${result.commonPrefix} entries in common).</p>
          <table class="compact"><caption>Fields that differ</caption>
            <thead><tr><th scope="col">field</th><th scope="col">replica</th><th scope="col">coordinator</th></tr></thead>
            <tbody>${result.firstDifference.fields.map((f) => html`<tr><td>${f.field}</td><td><code>${f.left}</code></td><td><code>${f.right}</code></td></tr>`)}</tbody>
          </table>
        </div>`}
  </section>`;
}

export function LedgerPage() {
  const [data, error] = useLoad(() => Promise.all([get('/v1/ledger?limit=5000'), get('/v1/ledger/endorsements?limit=5000')]), []);
  const [verdict, setVerdict] = useState(null);
  const [verifyError, setVerifyError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [differsAt, setDiffersAt] = useState(null);
  const verify = async () => {
    setBusy(true);
    try {
      setVerdict(await get('/v1/ledger/verify'));
      setVerifyError(null);
    } catch (err) {
      setVerifyError(err);
    } finally {
      setBusy(false);
    }
  };
  const focus = verdict && !verdict.ok ? verdict.badIndex : differsAt;
  useEffect(() => {
    if (focus !== null && focus !== undefined) document.getElementById(`entry-${focus}`)?.scrollIntoView({ block: 'center' });
  }, [focus]);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (data === null) return html`<p>Loading…</p>`;
  const [ledger, endorsements] = data;
  const statusOf = new Map(endorsements.entries.map((s) => [s.index, s]));
  const problemsOf = new Map((verdict?.entries ?? []).map((a) => [a.index, a.problems]));
  return html`
    <h1>Ledger</h1>
    <p>${ledger.length} entries; head <${Hash} value=${ledger.headHash} />.</p>
    <div class="actions">
      <button type="button" onClick=${verify} disabled=${busy}>Verify the whole chain now</button>
    </div>
    <${ErrorText} error=${verifyError} />
    ${verdict === null ? null : verdict.ok
      ? html`<p class="ok" role="status" data-testid="verify-result">Intact: ${verdict.length} entries; hashes, links, the coordinator's and every site's signatures verify${verdict.unendorsed.length > 0 ? `; not yet endorsed: ${verdict.unendorsed.map((i) => `#${i}`).join(', ')}` : '; every entry endorsed'}.</p>`
      : html`<p class="bad-box" role="alert" data-testid="verify-result">BROKEN at entry #${verdict.badIndex}: ${verdict.reason}</p>`}
    <${ReplicaDiff} onDiff=${setDiffersAt} />
    ${endorsements.disputes.length > 0 ? html`<p class="warn">${endorsements.disputes.length} disputes filed by sites.</p>` : null}
    <h2>Timeline</h2>
    <ol class="timeline" data-testid="timeline">
      ${[...ledger.entries].reverse().map((e) => html`<${Entry} key=${e.index} e=${e} status=${statusOf.get(e.index)} problems=${problemsOf.get(e.index)}
        bad=${verdict && !verdict.ok && verdict.badIndex === e.index ? verdict.reason : null} differs=${differsAt === e.index} />`)}
    </ol>`;
}
