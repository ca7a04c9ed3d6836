// Every code in shared/errors.ts is raised somewhere in the product and appears in a test: a code
// nobody raises is a promise the API does not keep, and one no test provokes may not be raised as
// documented. A string scan of the tree: product files outside errors.ts must hold the code as a
// string ('E_…', "E_…" or `E_…`, not only in a comment), test files must name it.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODE_LIST, type ErrorCode } from '../../shared/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRODUCT = ['bin', 'cli', 'coordinator', 'datasets', 'shared', 'site-agent'];
const THIS_FILE = fileURLToPath(import.meta.url);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mts|mjs|js)$/.test(f) && !f.split(/[\\/]/).includes('node_modules'))
    .map((f) => join(ROOT, dir, f));
}

const read = (files: string[]): string => files.map((f) => readFileSync(f, 'utf8')).join('\n');
const productText = read(PRODUCT.flatMap(sources).filter((f) => relative(ROOT, f) !== join('shared', 'errors.ts')));
const testText = read(sources('test').filter((f) => f !== THIS_FILE));

const raised = (code: ErrorCode): boolean => new RegExp(`['"\`]${code}\\b`).test(productText);
const tested = (code: ErrorCode): boolean => new RegExp(`\\b${code}\\b`).test(testText);

describe('error codes', () => {
  it('the scan sees the tree: some code is raised and tested, and errors.ts itself is left out', () => {
    expect(raised('E_BAD_JSON') && tested('E_BAD_JSON')).toBe(true);
    expect(productText).not.toContain('export const ERROR_CODES');
  });

  it.each(ERROR_CODE_LIST)('%s is raised in product code and appears in a test', (code) => {
    expect({ code, raised: raised(code), tested: tested(code) }).toEqual({ code, raised: true, tested: true });
  });

});
