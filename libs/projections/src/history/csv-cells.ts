import { stringify } from 'csv-stringify/sync';

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const FORMULA_LEADERS = new Set(['=', '+', '-', '@', '\t', '\r']);

/**
 * A text cell as a spreadsheet must show it: one starting with =, +, -, @, tab or CR gets a
 * leading apostrophe (OWASP's recommendation), so it is shown as text and never evaluated.
 * Numbers (credits) are not text cells and stay numbers.
 */
export function neutraliseFormula(text: string): string {
  return text.length > 0 && FORMULA_LEADERS.has(text[0]) ? `'${text}` : text;
}

/** csv-stringify options: RFC 4180 with CRLF, every field holding CR, LF, a quote or the separator quoted. */
export const CSV_OPTIONS = {
  header: true,
  record_delimiter: 'windows',
  quoted_match: /[\r\n",]/,
  cast: { string: neutraliseFormula },
} as const;

/** Columns of the CSV export; new columns only ever go at the end (spreadsheets and scripts read them by place). */
export const CSV_COLUMNS = ['Date', 'Feature', 'Action', 'Description', 'Credits', 'Data requested', 'User', 'Credit type', 'Units'];

/** A CSV row as read: the nine CSV columns, then row_id (the keyset cursor's tie-break). */
export type CsvDbRow = [
  string,
  string | null,
  string | null,
  string | null,
  number | string,
  string | null,
  string | null,
  string | null,
  number | string | null,
  number | string,
];
/** One CSV row's cells in CSV_COLUMNS order (null cells are written empty). */
export type CsvCells = [string, string | null, string | null, string | null, number, string | null, string | null, string | null, number | null];

/**
 * The row as CSV cells, in place (the driver's array is ours: no copy per row): row_id dropped,
 * numbers kept numbers (a driver may hand big integers over as text, and a text "-5" would be
 * neutralised as a formula).
 */
export function csvCells(row: CsvDbRow): CsvCells {
  (row as unknown[]).length = 9;
  if (typeof row[4] !== 'number') row[4] = Number(row[4]);
  if (row[8] !== null && typeof row[8] !== 'number') row[8] = Number(row[8]);
  return row as unknown as CsvCells;
}

/**
 * A page of rows as CSV text, exactly as the streaming csv-stringify writes them (header first when
 * `header`): pages formatted one by one and concatenated give the bytes of one stream.
 */
export function csvPageText(rows: readonly CsvCells[], header: boolean): string {
  return stringify(rows as CsvCells[], { ...CSV_OPTIONS, columns: CSV_COLUMNS, header });
}
