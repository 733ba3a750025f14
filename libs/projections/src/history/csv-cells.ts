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
