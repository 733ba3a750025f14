import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import { prng } from '../ops/seed';
import { CSV_COLUMNS, CSV_OPTIONS, CsvCells, csvPageText } from './csv-cells';

const TEXTS = [null, '', 'plain', 'a,b', 'q"uote', 'line\nbreak', 'cr\r\nlf', '=SUM(A1)', '-5', '+x', '@at', '\ttab', '\rcr', 'é ü 😀'];

async function streamed(rows: CsvCells[]): Promise<string> {
  const csv = stringify({ ...CSV_OPTIONS, columns: CSV_COLUMNS });
  let out = '';
  csv.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const ended = once(csv, 'end');
  for (const row of rows) csv.write(row);
  csv.end();
  await ended;
  return out;
}

describe('CSV pages formatted one by one', () => {
  it('concatenate to the bytes of one streamed export, whatever the cells and the page sizes', async () => {
    const random = prng(3);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const row = (): CsvCells => [
      '2026-01-01T00:00:00.000Z',
      pick(TEXTS),
      pick(TEXTS),
      pick(TEXTS),
      pick([0, 1, -5, 123_456_789]),
      pick(TEXTS),
      pick(TEXTS),
      pick(TEXTS),
      pick([null, 0, 3]),
    ];
    for (let trial = 0; trial < 100; trial++) {
      const pages = Array.from({ length: Math.floor(random() * 4) }, () => Array.from({ length: 1 + Math.floor(random() * 30) }, row));
      const paged = pages.length === 0 ? csvPageText([], true) : pages.map((page, index) => csvPageText(page, index === 0)).join('');
      expect(paged).toBe(await streamed(pages.flat()));
    }
  });
});
