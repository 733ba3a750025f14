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

/** CSV rows buffered ahead of the client before the export waits for it (bounded memory: a few hundred KB). */
export const CSV_WRITE_BUFFER_ROWS = 1_000;
