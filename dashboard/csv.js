// A clinic's CSV in the browser (RFC 4180: quoted cells may hold commas, quotes and line breaks),
// so that only the model's input columns are sent; and the results written back as CSV. Pure.

/** Rows of cells with the line each starts on; blank lines skipped, a leading BOM dropped. */
export function parseCsv(text) {
  const records = [];
  let cells = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let sawQuote = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRecord = () => {
    if (cell.endsWith('\r')) cell = cell.slice(0, -1);
    // A blank line is no record; a line holding only "" is one.
    if (cells.length > 0 || cell !== '' || sawQuote) records.push({ line: start, cells: [...cells, cell] });
    cells = [];
    cell = '';
    sawQuote = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      sawQuote = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n') {
      endRecord();
      line++;
      start = line;
    } else cell += ch;
  }
  endRecord();
  return records;
}

/** A cell as the API wants it: a number when it reads back as the same number, else the text. */
export function cellValue(text) {
  if (text === '') return text;
  const x = Number(text);
  return Number.isFinite(x) && String(x) === text ? x : text;
}

const quote = (v) => {
  const t = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
};

export const toCsv = (header, rows) => [header, ...rows].map((r) => r.map(quote).join(',')).join('\n') + '\n';
