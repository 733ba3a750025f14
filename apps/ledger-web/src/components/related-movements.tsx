import { useSession } from '../context';
import { relatedQuery } from '../history-data';
import { useHistoryRows } from '../use-history-rows';
import { HistoryTable, type RowActions } from './history-table';
import { Loaded } from './states';

interface ViewProps {
  readonly view: ReturnType<typeof useHistoryRows>;
  readonly timeZone: string;
  readonly actions: RowActions;
  readonly label: string;
  readonly testId: string;
}

function RelatedRows({ view, timeZone, actions, label, testId }: ViewProps) {
  return (
    <Loaded state={view.state} what={label.toLowerCase()}>
      {() =>
        view.rows.length === 0 ? (
          <p className="state empty">No movement.</p>
        ) : (
          <>
            <p className="count" data-testid={`${testId}-count`}>
              {view.rows.length} row{view.rows.length === 1 ? '' : 's'}
              {view.hasMore ? ', more as you scroll' : ''}
            </p>
            <HistoryTable
              rows={view.rows}
              timeZone={timeZone}
              hasMore={view.hasMore}
              loadingMore={view.loadingMore}
              onLoadMore={view.loadMore}
              actions={actions}
              label={label}
              compact
              testId={`${testId}-scroll`}
            />
          </>
        )
      }
    </Loaded>
  );
}

/**
 * "Show related movements" of a row: two labelled views, each with its rows and at any date: the
 * consumption with its refunds (history filter consumptionId), and every access to the datum it
 * bought (history filter dataKey). A refund row names no dataKey; its consumption's is used.
 */
export function RelatedMovements({
  consumptionId,
  dataKey,
  userId,
  timeZone,
  actions,
  onClose,
  onError,
}: {
  consumptionId?: string;
  dataKey?: string;
  userId: string | undefined;
  timeZone: string;
  actions: RowActions;
  onClose: () => void;
  onError: (e: unknown) => void;
}) {
  const { api, accountId } = useSession();
  const id = accountId!;
  const consumption = useHistoryRows(api, id, consumptionId ? relatedQuery({ consumptionId }, userId) : {}, consumptionId !== undefined, onError);
  const consumptionLoaded = consumption.state.status === 'ok';
  const datum = dataKey ?? consumption.rows.find((r) => r.kind === 'consumption' && r.dataKey)?.dataKey ?? undefined;
  const accesses = useHistoryRows(api, id, datum ? relatedQuery({ dataKey: datum }, userId) : {}, datum !== undefined, onError);
  return (
    <div className="related" data-testid="related">
      <div className="state info" role="status">
        Related movements, at any date, whatever the other filters.{' '}
        <button type="button" onClick={onClose} data-testid="related-close">
          Show all movements
        </button>
      </div>
      {consumptionId !== undefined && (
        <section aria-labelledby="related-consumption-title" data-testid="related-consumption">
          <h2 id="related-consumption-title">Consumption “{consumptionId}” and its refunds</h2>
          <RelatedRows view={consumption} timeZone={timeZone} actions={actions} label="The consumption and its refunds" testId="related-consumption" />
        </section>
      )}
      <section aria-labelledby="related-datakey-title" data-testid="related-datakey">
        <h2 id="related-datakey-title">{datum ? <>Every access to “{datum}”</> : 'Every access to the same datum'}</h2>
        {datum ? (
          <RelatedRows view={accesses} timeZone={timeZone} actions={actions} label={`Every access to ${datum}`} testId="related-datakey" />
        ) : consumptionLoaded || consumption.state.status === 'error' ? (
          <p className="state empty">This consumption names no datum (no dataKey): there are no other accesses to show.</p>
        ) : (
          <p className="state loading">Looking up the consumption’s datum…</p>
        )}
      </section>
    </div>
  );
}
