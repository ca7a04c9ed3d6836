/// <reference lib="dom" />
// Debian's Chromium driven by playwright-core, for the dashboard's tests: never a downloaded
// browser. Tests skip, saying why, when /usr/bin/chromium is absent (.ci/run installs it).

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.FEDRX_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });

/** Signs in through the page's own form; resolves once the navigation bar is there. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.top');
}

/** The page's navigation links, in order. */
export const navLinks = (page: Page): Promise<string[]> => page.locator('header.top nav a').allInnerTexts();

/** Form fields (inputs, selects, text areas) with no label: by id, or their type when they have none. */
export const unlabelledFields = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => ((el as HTMLInputElement).labels?.length ?? 0) === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.id || el.tagName),
  );

/**
 * Every visible text's contrast against its nearest opaque background (WCAG 2 relative
 * luminance), listed when below 4.5:1 (3:1 for large text).
 */
export const lowContrast = (page: Page): Promise<string[]> =>
  page.evaluate(() => {
    const rgb = (s: string): number[] => (s.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]): number => {
      const c = [r!, g!, b!].map((v) => {
        const x = v / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
    };
    const background = (el: Element | null): number[] => {
      for (; el !== null; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el === null || (n.textContent ?? '').trim() === '' || el.closest('svg, canvas, noscript, option') !== null) continue;
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0) continue;
      const [a, b] = [lum(rgb(style.color)), lum(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${(n.textContent ?? '').trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
    }
    return out;
  });

/** Tab presses from the top of the page: the focused control after each (id, or its text). */
export async function tabOrder(page: Page, presses: number): Promise<string[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el === null ? '' : el.id || (el.textContent ?? '').trim();
    }));
  }
  return seen;
}

/** Saves a screenshot of the window (1280×900) under docs/screenshots/ when FEDRX_SCREENSHOTS=1, else in `dir`. */
export async function screenshot(page: Page, name: string, dir: string): Promise<void> {
  const out = process.env.FEDRX_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'screenshots') : dir;
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, `${name}.png`) });
}
