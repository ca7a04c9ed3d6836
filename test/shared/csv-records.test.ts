import { describe, expect, it } from 'vitest';
import { csvRecords } from '../../shared/csv-records.js';

const read = (text: string) => [...csvRecords(text)];

describe('CSV records', () => {
  it('splits plain lines, with CRLF, a BOM and blank lines', () => {
    expect(read('\uFEFFa,b,c\r\n1,2,3\r\n\r\n4,,6\n')).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', '2', '3'] },
      { line: 4, cells: ['4', '', '6'] },
    ]);
  });

  it('reads quoted cells holding commas, doubled quotes and line breaks, counting lines', () => {
    expect(read('id,notes,x\n1,"said ""no"", then left",2\n2,"two\nlines",3\n3,plain,4')).toEqual([
      { line: 1, cells: ['id', 'notes', 'x'] },
      { line: 2, cells: ['1', 'said "no", then left', '2'] },
      { line: 3, cells: ['2', 'two\nlines', '3'] },
      { line: 5, cells: ['3', 'plain', '4'] },
    ]);
  });

  it('leaves short and long records as they are for the caller to refuse, and flags a quote never closed', () => {
    const records = read('a,b\n1\n1,2,3\n1,"open\n2,3\n');
    expect(records.map((r) => r.cells.length)).toEqual([2, 1, 3, 2]);
    expect(records[3]).toEqual({ line: 4, cells: ['1', 'open\n2,3\n'], unclosedQuote: true });
  });
});
