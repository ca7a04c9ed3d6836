import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { studyInit } from '../../cli/study-init.js';
import { loadStudyFile } from '../../shared/load-study.js';

const dir = mkdtempSync(join(tmpdir(), 'fedrx-study-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fedrx study init', () => {
  it('writes a study that loads, prints a summary without cell values, and will not overwrite without --force', () => {
    const genes = Array.from({ length: 8 }, (_, j) => `expr_G${j}`);
    const rows = Array.from({ length: 12 }, (_, i) => [`P${i}`, `Ward secret-${i % 3}`, String(i * 1.5), ...genes.map((_, j) => ((i * j) % 7) / 3)].join(','));
    const data = join(dir, 'Site 1.csv');
    writeFileSync(data, `pid,ward,dose,${genes.join(',')}\n${rows.join('\n')}\n`);
    const out = join(dir, 'study.yaml');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    try {
      studyInit({ data, target: 'dose', out, ignore: 'ward' });
    } finally {
      log.mockRestore();
    }
    const study = loadStudyFile(out);
    expect(study).toMatchObject({ name: 'site-1', idColumn: 'pid', groups: [{ kind: 'numeric', match: '^expr_' }], model: { type: 'linear', l2: 'auto' } });
    expect(lines[0]).toBe('Site 1.csv: 12 rows, 11 columns → 8 model inputs (regression, target dose)');
    expect(lines.join('\n')).toContain('ignored (--ignore): ward');
    expect(lines.join('\n')).not.toMatch(/secret|P3/);
    expect(readFileSync(out, 'utf8')).toMatch(/^# Drafted by `fedrx study init` from Site 1.csv/);
    expect(() => studyInit({ data, target: 'dose', out })).toThrow(expect.objectContaining({ code: 'E_BAD_REQUEST', message: expect.stringContaining('pass --force') }));
    expect(() => studyInit({ data, target: 'dose', out, force: true, seed: 'x' })).toThrow('--seed must be an integer');
  });
});

describe('fedrx study command registration', () => {
  it('states the same thresholds as the drafting code', async () => {
    const { Command } = await import('commander');
    const { registerStudyCommands } = await import('../../cli/study-command.js');
    const { MAX_DRAFT_LEVELS, MIN_GROUP_COLUMNS } = await import('../../shared/study-draft.js');
    const program = new Command();
    registerStudyCommands(program, (fn) => fn);
    const init = program.commands.find((c) => c.name() === 'study')!.commands.find((c) => c.name() === 'init')!;
    expect(init.description()).toContain(`(${MIN_GROUP_COLUMNS} or more, e.g. expr_*)`);
    expect(init.description()).toContain(`text with over ${MAX_DRAFT_LEVELS} levels`);
  });
});
