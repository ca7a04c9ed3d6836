// The dashboard in a real browser (Debian's Chromium) against a real coordinator process and
// three real agent processes, with a finished run: each role signs in and sees only its pages; a
// live run's curve gains points; the ledger verifies and a tampered replica is caught; a
// prediction shows its answer, ledger entry and audit row; a CSV is scored and downloaded. And
// the bad input of the issue: wrong and expired sign-ins, a clinician on the runs page and API,
// a form with a missing or out-of-range value, a CSV of the wrong shape, a write without the
// CSRF token, script in a label or a site id.

import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';
import { hasChromium, launchBrowser, lowContrast, navLinks, screenshot, signIn, tabOrder, unlabelledFields } from './browser.js';
import { startFederation, type Federation } from './harness.js';
import { LISTENING, spawnFedrx } from '../../cli/spawn.js';
import { generateKeyPair } from '../../shared/signing.js';

let fed: Federation;
let browser: Browser;
let dir: string;
let finishedRun: string;

beforeAll(async () => {
  if (!hasChromium) return;
  dir = tempDir('e2e-dashboard');
  fed = await startFederation(dir, { sites: 3 });
  const run = await fed.clients['data-scientist'].startRun({ rounds: 3, minSites: 3, roundTimeoutSec: 60 });
  const done = await fed.clients['data-scientist'].follow(run.id, () => {});
  expect(done.status, done.error ?? '').toBe('completed');
  finishedRun = run.id;
  browser = await launchBrowser();
  // A federation's start and a first run: minutes on a loaded machine.
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await fed?.stop();
});

/** A fresh browser profile (no cookies) with one page; closed by the caller. */
async function fresh(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  return { context, page };
}

/** fetch from inside the page (so with its cookie), as a script of the page would. */
const pageFetch = (page: Page, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  page.evaluate(
    async ([p, i]) => {
      const res = await fetch(p, { ...i, credentials: 'same-origin' });
      return { status: res.status, body: await res.json() };
    },
    [path, init] as const,
  );

describe.skipIf(!hasChromium)('dashboard in a browser', () => {
  it('refuses a wrong token, a revoked token and an ended session at sign-in, with a coded message', async () => {
    const { context, page } = await fresh();
    await page.goto(`${fed.url}/`);
    // The page's modules render the form after load: Tab only once it is there.
    await page.waitForSelector('#token');
    expect(await tabOrder(page, 2)).toEqual(['token', 'Sign in']);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'sign-in', dir);

    await page.fill('#token', 'frx_' + 'x'.repeat(43));
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('[role=alert]').innerText()).toContain('E_UNAUTHENTICATED');
    expect(await context.cookies()).toEqual([]);

    const gone = await fed.clients.admin.createToken('auditor', 'leaver');
    await fed.clients.admin.revokeToken(gone.id);
    await page.fill('#token', gone.token);
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('[role=alert]').innerText()).toContain('unknown or revoked API token');

    // A session that was signed out (or has expired) is refused, and the page says why.
    await signIn(page, fed.url, fed.tokens.auditor);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'fedrx_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    await page.click('text=Sign out');
    await page.waitForSelector('#token');
    await context.addCookies([cookie!]);
    await page.reload();
    await expect.poll(() => page.locator('[role=status]').innerText()).toContain('expired or was signed out');
    const res = await pageFetch(page, '/v1/ledger');
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'E_SESSION_EXPIRED' } } });
    await context.close();
  });

  it('shows each role only its pages; a clinician gets neither the runs page nor its API', async () => {
    const expected = { 'data-scientist': ['Runs', 'Model card'], auditor: ['Runs', 'Sites', 'Ledger', 'Model card'], admin: ['Sites'], clinician: ['Predict', 'Model card'] } as const;
    for (const [role, pages] of Object.entries(expected)) {
      const { context, page } = await fresh();
      await signIn(page, fed.url, fed.tokens[role as keyof typeof expected]);
      expect(await navLinks(page), role).toEqual(pages);
      expect(await page.getByTestId('who').innerText()).toBe(`local federation ${role}`);
      await context.close();
    }
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.clinician);
    await page.goto(`${fed.url}/#/runs`);
    await expect.poll(() => page.locator('main [role=alert]').innerText()).toContain('not available to the clinician role');
    expect(await page.locator('[data-testid=runs]').count()).toBe(0);
    for (const path of ['/v1/runs', `/v1/runs/${finishedRun}`, '/v1/ledger']) {
      const res = await pageFetch(page, path);
      expect(res, path).toMatchObject({ status: 403, body: { error: { code: 'E_FORBIDDEN' } } });
    }
    await context.close();
  });

  it('refuses a write without the session\'s CSRF token, and accepts it with the token', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens['data-scientist']);
    const without = await pageFetch(page, `/v1/runs/${finishedRun}/cancel`, { method: 'POST' });
    expect(without).toMatchObject({ status: 403, body: { error: { code: 'E_CSRF' } } });
    const wrong = await pageFetch(page, `/v1/runs/${finishedRun}/cancel`, { method: 'POST', headers: { 'x-csrf-token': 'A'.repeat(43) } });
    expect(wrong.body.error.code).toBe('E_CSRF');
    const { body: session } = await pageFetch(page, '/v1/session');
    const withToken = await pageFetch(page, `/v1/runs/${finishedRun}/cancel`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken } });
    // Past the CSRF check, the route itself answers: this run has ended.
    expect(withToken).toMatchObject({ status: 409, body: { error: { code: 'E_RUN_FINISHED' } } });
    await context.close();
  });

  it('launches a run from the page and watches its curves gain points live, then compares runs', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens['data-scientist']);
    await expect.poll(() => page.locator('[data-testid=runs] tbody tr').count()).toBeGreaterThan(0);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'runs', dir);

    await page.fill('#launch-rounds', '8');
    await page.click('form[aria-labelledby=launch-title] button[type=submit]');
    await page.waitForSelector('[data-testid=metric-chart]');
    // Every value of the chart's point count while the page is open, from a DOM observer.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const chart = document.querySelector('[data-testid=metric-chart]')!;
      seen.push(chart.getAttribute('data-points')!);
      new MutationObserver(() => seen.push(chart.getAttribute('data-points')!)).observe(chart, { attributes: true });
    });
    await expect.poll(() => page.getByTestId('run-status').innerText(), { timeout: 120_000, interval: 500 }).toBe('completed');
    const seen = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).map(Number);
    // Every round's global and per-site values, added as the rounds were pushed, not all at once.
    const runId = (await page.locator('h1').innerText()).replace('Run ', '');
    const run = await fed.clients['data-scientist'].run(runId);
    const points = run.rounds.filter((r) => r.round > 0).reduce((n, r) => n + 1 + r.sites.filter((x) => x.evalMetric !== undefined).length, 0);
    expect(points).toBeGreaterThanOrEqual(8 * 3);
    expect(seen.at(-1)).toBe(points);
    expect(new Set(seen).size, `point counts seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await page.locator('[data-testid=rounds] tbody tr').count()).toBe(9);
    await screenshot(page, 'run', dir);

    await page.goto(`${fed.url}/#/runs`);
    await page.locator('input[type=checkbox]').nth(0).check();
    await page.locator('input[type=checkbox]').nth(1).check();
    await page.click('text=Compare 2 selected runs');
    await expect.poll(() => page.getByTestId('compare-chart').getAttribute('data-points')).toBe(String(8 + 3));
    await context.close();
  });

  it('shows sites to the admin, who registers one; a script as a site id is refused and shown as text', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.admin);
    await expect.poll(() => page.locator('[data-testid=sites] tbody tr').count()).toBe(3);
    const row = await page.locator('[data-testid=sites] tbody tr').first().innerText();
    expect(row).toMatch(/site-1\s+connected\s+\S+/);
    expect(row).toMatch(/([0-9a-f]{2}:){7}[0-9a-f]{2}/);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'sites', dir);

    let sent = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/sites') && r.method() === 'POST') sent++;
    });
    const evil = '<img src=x onerror="window.pwned=1">';
    await page.fill('#site-id', evil);
    await page.fill('#site-key', 'a'.repeat(64));
    await page.click('form[aria-labelledby=register-title] button[type=submit]');
    await expect.poll(() => page.locator('form [role=alert]').innerText()).toContain('Site id: 1-128 letters');
    expect(sent).toBe(0);
    // Past the page's own check, the API refuses it too, naming no value.
    const res = await pageFetch(page, '/v1/sites', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': (await pageFetch(page, '/v1/session')).body.csrfToken },
      body: JSON.stringify({ siteId: evil, publicKey: 'a'.repeat(64) }),
    });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'E_BAD_REQUEST' } } });
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

    // A real site: registered, listed, then revoked from its row.
    await page.fill('#site-id', 'site-9');
    await page.fill('#site-key', generateKeyPair().publicKey);
    await page.click('form[aria-labelledby=register-title] button[type=submit]');
    await expect.poll(() => page.locator('form [role=status]').innerText()).toBe('site-9: registered');
    await expect.poll(() => page.locator('[data-testid=sites] tbody tr').count()).toBe(4);
    await page.click('button[aria-label="revoke site-9"]');
    await expect.poll(() => page.locator('[data-testid=sites] tbody tr', { hasText: 'site-9' }).innerText()).toContain('revoked');
    expect((await fed.clients.admin.sites()).sites.find((x) => x.id === 'site-9')).toMatchObject({ revoked: true });
    await context.close();
  });

  it('shows a label and a study name holding script as text, never running them', async () => {
    const evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    const scientist = await fed.clients.admin.createToken('data-scientist', evil);
    const study = JSON.parse(readFileSync(join(process.cwd(), 'datasets', 'studies', 'synthetic-warfarin.json'), 'utf8'));
    const { context, page } = await fresh();
    await signIn(page, fed.url, scientist.token);
    expect(await page.getByTestId('who').innerText()).toBe(evil);
    // A run whose study is named with script, cancelled by the token labelled with script.
    const { body: session } = await pageFetch(page, '/v1/session');
    const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
    const started = await pageFetch(page, '/v1/runs', { method: 'POST', headers, body: JSON.stringify({ study: { ...study, name: evil }, rounds: 50, minSites: 3 }) });
    expect(started.status).toBe(201);
    const cancelled = await pageFetch(page, `/v1/runs/${started.body.id}/cancel`, { method: 'POST', headers: { 'x-csrf-token': session.csrfToken } });
    expect([200, 202]).toContain(cancelled.status);
    await expect.poll(async () => (await fed.clients.auditor.run(started.body.id)).status, { timeout: 60_000 }).toBe('cancelled');
    await page.goto(`${fed.url}/#/runs`);
    await page.reload();
    const first = page.locator('[data-testid=runs] tbody tr').first();
    await expect.poll(() => first.innerText()).toContain(evil);
    expect(await first.innerText()).toContain(`cancelled by data-scientist ${evil}`);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await context.close();
  });

  it('walks the ledger as the auditor: verifies it, and catches a tampered replica field by field', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.auditor);
    await page.click('header.top >> text=Ledger');
    await expect.poll(() => page.locator('[data-testid=timeline] > li').count()).toBeGreaterThan(4);
    await page.click('text=Verify the whole chain now');
    await expect.poll(() => page.getByTestId('verify-result').innerText()).toContain('Intact');
    expect(await page.locator('[data-testid=timeline] > li').first().innerText()).toMatch(/endorsed by site-\d/);

    const replica = readFileSync(join(fed.replicaDir('site-1'), 'ledger.jsonl'), 'utf8');
    const same = join(dir, 'ledger.jsonl');
    writeFileSync(same, replica);
    await page.setInputFiles('#replica-file', same);
    await expect.poll(() => page.getByTestId('diff-result').innerText()).toContain('The replica agrees');

    const lines = replica.trim().split('\n').map((l) => JSON.parse(l));
    lines[2].metrics.evalMetric += 1;
    mkdirSync(join(dir, 'tampered'), { recursive: true });
    const tampered = join(dir, 'tampered', 'ledger.jsonl');
    writeFileSync(tampered, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await page.setInputFiles('#replica-file', tampered);
    await expect.poll(() => page.getByTestId('diff-result').innerText()).toContain('differs from entry #2');
    expect(await page.getByTestId('diff-result').innerText()).toContain('metrics.evalMetric');
    expect(await page.getByTestId('first-difference').getAttribute('id')).toBe('entry-2');
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'ledger', dir);
    await context.close();
  });

  it('predicts for one patient from the generated form, with its ledger entry and audit row', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.clinician);
    await page.waitForSelector('[data-testid=predict-form]');
    let predictions = 0;
    page.on('request', (r) => {
      if (r.url().includes('/v1/predict')) predictions++;
    });
    // Missing required values: inline messages, focus on the first, nothing sent.
    await page.click('[data-testid=predict-form] button[type=submit]');
    await expect.poll(() => page.locator('.field-error').allInnerTexts()).toEqual(['sex is required.', 'amiodarone is required.', 'enzyme_inducer is required.']);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-sex');
    // Out of range: the study's range, with its unit.
    await page.fill('#f-age_years', '7');
    await page.selectOption('#f-sex', 'F');
    await page.selectOption('#f-amiodarone', '0');
    await page.selectOption('#f-enzyme_inducer', '0');
    await page.click('[data-testid=predict-form] button[type=submit]');
    await expect.poll(() => page.locator('.field-error').allInnerTexts()).toEqual(['age_years must be between 18 and 100 years.']);
    expect(await page.getAttribute('#f-age_years', 'aria-invalid')).toBe('true');
    expect(predictions).toBe(0);

    await page.fill('#f-age_years', '67');
    await page.fill('#f-height_cm', '163');
    await page.fill('#f-weight_kg', '71');
    await page.selectOption('#f-cyp2c9', '*1/*3');
    await page.selectOption('#f-vkorc1_1639', 'A/G');
    await page.click('[data-testid=predict-form] button[type=submit]');
    await page.waitForSelector('[data-testid=answer]');
    expect(predictions).toBe(1);
    const dose = Number(await page.getByTestId('prediction').innerText());
    expect(dose).toBeGreaterThan(5);
    expect(dose).toBeLessThan(150);
    const audit = (await fed.clients.auditor.auditLog()).entries.at(-1)!;
    expect(audit).toMatchObject({ role: 'clinician', route: '/v1/predict', rows: 1 });
    expect(await page.locator('[data-testid=answer] a .hash').getAttribute('title')).toBe(audit.modelHash);
    const entry = (await fed.clients.auditor.ledger(audit.ledgerIndex, 1)).entries[0]!;
    expect(entry.modelHash).toBe(audit.modelHash);
    expect(await page.getByTestId('ledger-entry').innerText()).toContain(`#${audit.ledgerIndex} ${entry.entryHash.slice(0, 12)}`);
    expect(await page.getByTestId('audit-row').innerText()).toContain(`row #${audit.seq}`);
    expect(await page.getByTestId('audit-row').innerText()).toContain(audit.inputHash.slice(0, 12));
    // The interval appears once the model has one (calibrated intervals are another change); until then the page says so.
    expect(await page.getByTestId('interval').innerText()).toMatch(/interval|no calibrated interval/);

    // Tab walks the form's fields in their order.
    const fields = await page.locator('[data-testid=predict-form] input, [data-testid=predict-form] select').evaluateAll((els) => els.map((e) => e.id));
    await page.focus(`#${fields[0]}`);
    const order = [fields[0]!];
    for (let i = 1; i < fields.length; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement!.id));
    }
    expect(order).toEqual(fields);
    expect(await unlabelledFields(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'predict', dir);
    await context.close();
  });

  it('scores a clinic\'s CSV (input columns only), offers the results as CSV, and refuses a file of the wrong shape unsent', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.clinician);
    await page.waitForSelector('#csv-file');
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/predict')) bodies.push(r.postData() ?? '');
    });

    const wrong = join(dir, 'wrong.csv');
    writeFileSync(wrong, 'patient_id,age_years,weight_kg\np1,60,70\n');
    await page.setInputFiles('#csv-file', wrong);
    await expect.poll(() => page.locator('[role=alert]').innerText()).toContain('E_CSV_MISSING_COLUMN');
    expect(await page.locator('[role=alert]').innerText()).toContain('height_cm');
    expect(bodies).toEqual([]);

    const clinic = join(dir, 'clinic.csv');
    writeFileSync(
      clinic,
      [
        'patient_id,name,age_years,sex,height_cm,weight_kg,ancestry,cyp2c9,vkorc1_1639,amiodarone,enzyme_inducer',
        'p1,"Doe, Jane",67,F,163,71,White,*1/*3,A/G,0,0',
        'p2,Roe,45,M,180,95,Asian,*1/*1,A/A,0,1',
        'p3,broken line,50,M',
        'p4,Poe,230,M,170,80,Black,*1/*1,G/G,0,0',
      ].join('\n') + '\n',
    );
    await page.setInputFiles('#csv-file', clinic);
    await expect.poll(() => page.locator('[data-testid=csv-results] tbody tr').count()).toBe(4);
    const rows = await page.locator('[data-testid=csv-results] tbody tr').allInnerTexts();
    expect(rows[0]).toMatch(/^2\s+p1\s+\d+\.\d/);
    expect(rows[2]).toContain('E_MALFORMED_ROW');
    expect(rows[3]).toContain('E_BAD_FEATURE');
    // One request, holding the model's columns only: no names left the browser.
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).not.toContain('Doe');
    expect(Object.keys(JSON.parse(bodies[0]!))).toEqual(['modelHash', 'columns', 'rows']);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download results (CSV)')]);
    const text = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(text[0]).toBe('id,prediction,unit,interval_lower,interval_upper,coverage,error_code,error,model_hash');
    expect(text).toHaveLength(5);
    expect(text[3]).toContain('E_MALFORMED_ROW');
    await context.close();
  });

  it('shows a model card and the REST docs', async () => {
    const { context, page } = await fresh();
    await signIn(page, fed.url, fed.tokens.auditor);
    const kept = (await fed.clients.auditor.run(finishedRun)).rounds.at(-1)!;
    await page.goto(`${fed.url}/#/card/${kept.modelHash}`);
    await expect.poll(() => page.getByTestId('card').innerText()).toContain('synthetic-warfarin');
    expect(await page.getByTestId('card').innerText()).toContain(`#${kept.ledgerIndex}`);
    const card = await page.locator('main').innerText();
    expect(card).toMatch(/Training sites[\s\S]*site-1\s+\d+/);
    expect(card).toContain('Held-out metrics per site');
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'model-card', dir);

    await page.goto(`${fed.url}/docs`);
    await expect.poll(() => page.locator('details.op').count()).toBeGreaterThan(20);
    expect(await page.locator('main').innerText()).toContain('POST /v1/predict');
    expect(await lowContrast(page)).toEqual([]);
    await screenshot(page, 'docs', dir);
    await context.close();
  });

  // Last: it stops the federation. A ledger edited behind the triggers, served read-only.
  it('verifies a tampered ledger on demand and highlights the first bad entry', async () => {
    await fed.stop();
    const db = new Database(fed.db);
    db.exec('DROP TRIGGER ledger_no_update');
    db.prepare(`UPDATE ledger SET metrics_json = json_set(metrics_json, '$.evalMetric', 1.5) WHERE idx = 2`).run();
    db.close();
    const coordinator = spawnFedrx('coordinator-ro', ['coordinator', '--db', fed.db, '--port', '0', '--read-only'], { logFile: join(dir, 'logs', 'read-only.log') });
    try {
      const url = (await coordinator.waitFor(LISTENING, 30_000))[1]!;
      const { context, page } = await fresh();
      await signIn(page, url, fed.tokens.auditor);
      await page.click('header.top >> text=Ledger');
      await page.click('text=Verify the whole chain now');
      await expect.poll(() => page.getByTestId('verify-result').innerText()).toContain('BROKEN at entry #2');
      const bad = page.getByTestId('first-bad');
      expect(await bad.getAttribute('id')).toBe('entry-2');
      expect(await bad.innerText()).toContain('First bad entry');
      expect(await bad.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe('rgba(0, 0, 0, 0)');
      expect(await lowContrast(page)).toEqual([]);
      await screenshot(page, 'ledger-broken', dir);
      await context.close();
    } finally {
      await coordinator.stop();
    }
  });
});
