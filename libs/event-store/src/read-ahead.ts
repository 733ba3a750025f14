/**
 * The pages of a paged read, one read ahead: while the caller handles a page, the next one is
 * already being read (in a reader thread for SQLite, by the server for PostgreSQL), so the read
 * and the work on what was read overlap instead of waiting for each other.
 *
 * `read(cursor)` reads the page at `cursor`; `next(page)` gives the cursor of the page after it,
 * or undefined when there is none (the first cursor undefined: nothing to read). A read ahead
 * that the caller abandons (it stops early or throws) settles unobserved.
 */
export async function* readAhead<Cursor, Page>(
  first: Cursor | undefined,
  read: (cursor: Cursor) => Promise<Page>,
  next: (page: Page) => Cursor | undefined,
): AsyncGenerator<Page> {
  let pending = first === undefined ? undefined : read(first);
  try {
    while (pending !== undefined) {
      const page = await pending;
      const cursor = next(page);
      pending = cursor === undefined ? undefined : read(cursor);
      yield page;
    }
  } finally {
    pending?.catch(() => undefined);
  }
}
