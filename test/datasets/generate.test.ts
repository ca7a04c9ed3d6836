import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSiteCsvs } from '../../datasets/generate.js';
import { SYNTHETIC_COLUMNS } from '../../datasets/write-csv.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'fedrx-datasets-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('generateSiteCsvs', () => {
  it('writes one CSV per site with the fixed header and the planned row count', async () => {
    const dir = await tempDir();
    const outDir = join(dir, 'nested', 'out'); // must be created
    const sites = await generateSiteCsvs({ sites: 3, outDir, seed: 'g', totalPatients: 600 });
    expect(sites.map((s) => s.siteId)).toEqual(['site-1', 'site-2', 'site-3']);
    expect(sites.reduce((s, x) => s + x.rows, 0)).toBe(600);
    for (const s of sites) {
      expect(s.file).toBe(join(outDir, `${s.siteId}.csv`));
      const lines = (await readFile(s.file, 'utf8')).trimEnd().split('\n');
      expect(lines[0]).toBe(SYNTHETIC_COLUMNS.join(','));
      expect(lines.length - 1).toBe(s.rows);
      expect(lines[1]?.startsWith(`${s.siteId}-0001,`)).toBe(true);
      for (const line of lines.slice(1)) {
        const cells = line.split(',');
        expect(cells).toHaveLength(SYNTHETIC_COLUMNS.length);
        expect(Number.isInteger(Number(cells[1]))).toBe(true);
        expect(['F', 'M']).toContain(cells[2]);
        expect(['', '*1/*1', '*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3']).toContain(cells[6]);
        expect(['', 'G/G', 'A/G', 'A/A']).toContain(cells[7]);
        const dose = Number(cells[10]);
        expect(dose >= 5 && dose <= 140).toBe(true);
        expect(cells[10]).toMatch(/^\d+(\.\d{1,2})?$/);
      }
    }
  });

  it('is byte-identical for the same seed and differs across sites and seeds', async () => {
    const [d1, d2, d3] = [await tempDir(), await tempDir(), await tempDir()];
    const a = await generateSiteCsvs({ sites: 2, outDir: d1, seed: 42 });
    const b = await generateSiteCsvs({ sites: 2, outDir: d2, seed: 42 });
    const c = await generateSiteCsvs({ sites: 2, outDir: d3, seed: 43 });
    const read = (f: string): Promise<Buffer> => readFile(f);
    for (let i = 0; i < 2; i++) {
      expect((await read(b[i]!.file)).equals(await read(a[i]!.file))).toBe(true);
      expect((await read(c[i]!.file)).equals(await read(a[i]!.file))).toBe(false);
    }
    const body = async (f: string): Promise<string[]> =>
      (await readFile(f, 'utf8')).split('\n').slice(1).map((l) => l.split(',').slice(1).join(','));
    expect(await body(a[0]!.file)).not.toEqual(await body(a[1]!.file));
    expect(b.map((s) => s.ancestryMix)).toEqual(a.map((s) => s.ancestryMix));
  });

  it('adding a site leaves the existing sites\u2019 first patients unchanged', async () => {
    const [d1, d2] = [await tempDir(), await tempDir()];
    const two = await generateSiteCsvs({ sites: 2, outDir: d1, seed: 's' });
    const three = await generateSiteCsvs({ sites: 3, outDir: d2, seed: 's' });
    for (let i = 0; i < 2; i++) {
      const x = (await readFile(two[i]!.file, 'utf8')).split('\n').slice(0, 61);
      const y = (await readFile(three[i]!.file, 'utf8')).split('\n').slice(0, 61);
      expect(y).toEqual(x);
    }
  });
});
