import { useCallback, useMemo, useState } from 'react';
import { load, type Api } from './api';
import type { HistoryRow } from './components/history-table';
import type { historyQuery } from './history-data';
import { useLoad } from './use-load';

/** The first page is what the screen shows (50 rows: quick to fetch and draw); later pages are larger. */
export const FIRST_PAGE_ROWS = 50;
export const NEXT_PAGE_ROWS = 500;

const ignore = (): void => undefined;

export type HistoryQuery = Partial<ReturnType<typeof historyQuery>>;

/**
 * The movements of a history query in keyset pages: the first page, then more on demand. While the
 * next query loads, the rows (and their cursor and query) stay those of the last answer, so the
 * table keeps the same props and is not redrawn until its new rows arrive.
 */
export function useHistoryRows(api: Api, accountId: string, query: HistoryQuery, enabled = true, onError: (e: unknown) => void = ignore) {
  const key = JSON.stringify(query);
  const first = useLoad(
    (retry) =>
      load(() => api.GET('/v1/accounts/{accountId}/history', { params: { path: { accountId }, query: { ...query, limit: FIRST_PAGE_ROWS } } }), retry).then(
        (page) => ({ key, query, page }),
      ),
    [accountId, key],
    enabled,
  );
  const loaded = first.status === 'error' ? undefined : first.data;
  const [more, setMore] = useState<{ key: string; rows: HistoryRow[]; cursor: string | null }>({ key: '', rows: [], cursor: null });
  const [loadingMore, setLoadingMore] = useState(false);
  const rows = useMemo(() => (loaded ? [...loaded.page.items, ...(more.key === loaded.key ? more.rows : [])] : []), [loaded, more]);
  const cursor = loaded ? (more.key === loaded.key && more.rows.length > 0 ? more.cursor : loaded.page.nextCursor) : null;
  const loadMore = useCallback(() => {
    if (!loaded || !cursor || loadingMore) return;
    setLoadingMore(true);
    load(() => api.GET('/v1/accounts/{accountId}/history', { params: { path: { accountId }, query: { ...loaded.query, limit: NEXT_PAGE_ROWS, cursor } } }))
      .then((page) => setMore((prev) => ({ key: loaded.key, rows: [...(prev.key === loaded.key ? prev.rows : []), ...page.items], cursor: page.nextCursor })))
      .catch(onError)
      .finally(() => setLoadingMore(false));
  }, [api, accountId, loaded, cursor, loadingMore, onError]);
  return { state: first, rows, hasMore: cursor !== null, loadingMore, loadMore };
}
