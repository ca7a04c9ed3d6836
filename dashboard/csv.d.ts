// Types of dashboard/csv.js (plain JavaScript for the browser), for the tests that import it.

export interface CsvRecord {
  line: number;
  cells: string[];
}
export function parseCsv(text: string): CsvRecord[];
export function cellValue(text: string): string | number;
export function toCsv(header: unknown[], rows: unknown[][]): string;
