import { readAhead } from './read-ahead';

describe('readAhead', () => {
  const pagesOf = [[1, 2], [3, 4], [5]];

  it('reads the next page before the current one is handed over, until next says there is none', async () => {
    const reads: number[] = [];
    const handled: string[] = [];
    const pages = readAhead(
      0,
      async (cursor: number) => (reads.push(cursor), pagesOf[cursor]),
      (page) => (page.length === 2 ? pagesOf.findIndex((candidate) => candidate === page) + 1 : undefined),
    );
    for await (const page of pages) handled.push(`${page.join(',')} after reads ${reads.join(',')}`);
    expect(handled).toEqual(['1,2 after reads 0,1', '3,4 after reads 0,1,2', '5 after reads 0,1,2']);
  });

  it('reads nothing from an undefined first cursor', async () => {
    const read = jest.fn(async () => [1]);
    for await (const page of readAhead(undefined, read, () => undefined)) throw new Error(`unexpected ${page.join(',')}`);
    expect(read).not.toHaveBeenCalled();
  });

  it('leaves a read ahead that fails after the caller stopped unobserved, and passes on a failure it reaches', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    const failing = (cursor: number) => (cursor === 0 ? Promise.resolve([1]) : Promise.reject(new Error('disk')));
    const readAll = async () => {
      for await (const page of readAhead(0, failing, () => 1)) expect(page).toEqual([1]);
    };
    await expect(readAll()).rejects.toThrow('disk');
    for await (const page of readAhead(0, failing, () => 1)) {
      expect(page).toEqual([1]);
      break; // abandoned: the rejected read ahead must not surface
    }
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});
