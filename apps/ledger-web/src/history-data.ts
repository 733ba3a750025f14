import type { Api } from './api';
import type { HistoryFilters, ResolvedRange } from './filters';

/**
 * The history request of some filters (the table and Export CSV). Related movements look at all
 * time, with refunds: one consumption and its refunds when a consumption is named, else every
 * access to the dataKey.
 */
export function historyQuery(f: HistoryFilters, range: ResolvedRange, userId: string | undefined) {
  const related = f.consumptionId !== undefined || f.dataKey !== undefined;
  return {
    ...(related ? {} : { from: range.from, to: range.to }),
    userId,
    feature: f.feature,
    action: f.action,
    creditType: f.creditType,
    consumptionId: f.consumptionId,
    dataKey: f.consumptionId === undefined ? f.dataKey : undefined,
    includeRefunds: (related || f.refunds ? 'true' : 'false') as 'true' | 'false',
    ...(f.holds ? { includeHolds: 'true' as const } : {}),
  };
}

/**
 * One view of the related movements: a consumption with its refunds, or every access to a
 * dataKey; at any date, whatever the other filters (a member's own rows only).
 */
export function relatedQuery(of: { consumptionId: string } | { dataKey: string }, userId: string | undefined) {
  return { ...of, userId, includeRefunds: 'true' as const };
}

/** The series request (graph and totals) of some filters, in a zone. */
export function seriesQuery(f: HistoryFilters, range: ResolvedRange, userId: string | undefined, timezone: string) {
  return {
    from: range.from,
    to: range.to,
    bucket: range.bucket,
    groupBy: f.groupBy,
    timezone,
    userId,
    feature: f.feature,
    action: f.action,
    creditType: f.creditType,
  };
}

/**
 * Saves the server's CSV of a history query as a file. The bytes are the API's streamed answer
 * (history.csv): the console never builds CSV itself; it only hands the answer to the browser.
 */
export async function downloadCsv(api: Api, accountId: string, query: Partial<ReturnType<typeof historyQuery>>, fileName: string): Promise<void> {
  const { data, error, response } = await api.GET('/v1/accounts/{accountId}/history.csv', { params: { path: { accountId }, query }, parseAs: 'blob' });
  if (!response.ok || !data) throw new Error((error as { message?: string } | undefined)?.message ?? `the export failed (${response.status})`);
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
