// The dashboard's CSV reader (plain JavaScript, run by the browser) reads what the CLI's reader
// (shared/csv-records.ts) reads: same cells, same line numbers; and its writer quotes what it must.

import { describe, expect, it } from 'vitest';
import { cellValue, parseCsv, toCsv } from '../../dashboard/csv.js';
import { csvRecords } from '../../shared/csv-records.js';

const SAMPLES = [
  'a,b,c\n1,2,3\n',
  'a,b\r\n1,2\r\n\r\n3,4',
  '\ufeffid,note\np1,"Doe, Jane"\np2,"said ""hi""\nand left"\np3,\n',
  'x\n\n\n"only"\n',
  'a,b,c\n1,2\n4,5,6,7\n',
];

describe('dashboard CSV', () => {
  it.each(SAMPLES)('reads %j as shared/csv-records does', (text) => {
    const ours = parseCsv(text);
    const theirs = [...csvRecords(text)].map((r) => ({ line: r.line, cells: r.cells }));
    expect(ours).toEqual(theirs);
  });

  it('sends numbers as numbers only when they read back the same', () => {
    expect(['67', '1.5', '', '007', '1e3', 'A/G', '0'].map(cellValue)).toEqual([67, 1.5, '', '007', '1e3', 'A/G', 0]);
  });

  it('writes cells with commas, quotes or line breaks quoted, and reads them back', () => {
    const text = toCsv(['id', 'error'], [['p1', 'line 3: "x", 2 cells'], ['p2', null]]);
    expect(text).toBe('id,error\np1,"line 3: ""x"", 2 cells"\np2,\n');
    expect(parseCsv(text).map((r) => r.cells)).toEqual([['id', 'error'], ['p1', 'line 3: "x", 2 cells'], ['p2', '']]);
  });
});
