// Reads CSV text one record at a time (RFC 4180: a quoted cell may hold commas, line breaks and
// doubled quotes), each with the line it starts on. It never guesses at a broken record: the
// caller compares its cell count with the header's and reports that record alone. Pure.

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  cells: string[];
  /** A quoted cell ran to the end of the file: the record swallowed every line after it. */
  unclosedQuote?: true;
}

/** Records in file order, the header first; blank lines are skipped. A leading BOM is dropped. */
export function* csvRecords(text: string): Generator<CsvRecord> {
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const end = eol > pos && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    const start = line;
    // Most lines of a numeric export hold no quote: split them directly.
    if (text.lastIndexOf('"', end - 1) < pos) {
      if (end > pos) yield { line: start, cells: text.slice(pos, end).split(',') };
      pos = eol + 1;
      line++;
      continue;
    }
    const quoted = quotedRecord(text, pos);
    line += quoted.lines;
    pos = quoted.next;
    yield { line: start, cells: quoted.cells, ...(quoted.unclosed ? { unclosedQuote: true as const } : {}) };
  }
}

/** One record from `pos`, cell by cell: its cells, the lines it spans and where the next begins. */
function quotedRecord(text: string, pos: number): { cells: string[]; lines: number; next: number; unclosed: boolean } {
  const cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let cellStart = true;
  let lines = 1;
  let i = pos;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch !== '"') {
        if (ch === '\n') lines++;
        cell += ch;
      } else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else inQuotes = false;
      continue;
    }
    if (ch === '\n') break;
    if (ch === ',') {
      cells.push(cell);
      cell = '';
      cellStart = true;
      continue;
    }
    if (ch === '"' && cellStart) inQuotes = true;
    else if (!(ch === '\r' && text[i + 1] === '\n')) cell += ch;
    cellStart = false;
  }
  cells.push(cell);
  return { cells, lines, next: i + 1, unclosed: inQuotes };
}
