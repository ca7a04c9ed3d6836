import { describe, expect, it } from 'vitest';
import { MAX_CSV_COLUMNS, readCsv } from '../../shared/csv.js';

const records = (text: string): { cells: string[]; line: number }[] => {
  const out: { cells: string[]; line: number }[] = [];
  readCsv(text, 'x.csv').forEach((cells, line) => out.push({ cells: [...cells], line }));
  return out;
};

describe('readCsv', () => {
  it('reads quoted cells with commas, doubled quotes and line ends; CRLF; a BOM; blank lines', () => {
    const text = '\ufeffid,note,x\r\n1,"a, b",2\r\n2,"say ""hi""",3\r\n\r\n3,"two\nlines",4\r\n';
    const csv = readCsv(text, 'x.csv');
    expect(csv.header).toEqual(['id', 'note', 'x']);
    expect(records(text)).toEqual([
      { cells: ['1', 'a, b', '2'], line: 2 },
      { cells: ['2', 'say "hi"', '3'], line: 3 },
      { cells: ['3', 'two\nlines', '4'], line: 5 },
    ]);
  });

  it('keeps empty cells and a last line without a line end', () => {
    expect(records('a,b,c\n,,\n1,,3')).toEqual([
      { cells: ['', '', ''], line: 2 },
      { cells: ['1', '', '3'], line: 3 },
    ]);
  });

  it('refuses a ragged record, naming its line and counts, not its cells', () => {
    expect(() => records('a,b\n1,2\n3,4,secret\n')).toThrow(expect.objectContaining({ code: 'E_CSV_BAD_VALUE', message: 'CSV x.csv: line 3 has 3 cells, the header 2' }));
  });

  it('refuses a header naming a column twice, and an unterminated quote', () => {
    expect(() => readCsv('a,b,a\n1,2,3\n', 'x.csv')).toThrow(/column "a" appears twice/);
    expect(() => records('a,b\n"1,2\n')).toThrow(expect.objectContaining({ code: 'E_CSV_BAD_VALUE' }));
  });

  it(`refuses more than ${MAX_CSV_COLUMNS} columns before reading any record`, () => {
    const header = Array.from({ length: MAX_CSV_COLUMNS + 1 }, (_, i) => `c${i}`).join(',');
    expect(() => readCsv(`${header}\n`, 'wide.csv')).toThrow(
      expect.objectContaining({ code: 'E_CSV_TOO_WIDE', message: `CSV wide.csv has ${MAX_CSV_COLUMNS + 1} columns; at most ${MAX_CSV_COLUMNS} are read` }),
    );
  });
});
