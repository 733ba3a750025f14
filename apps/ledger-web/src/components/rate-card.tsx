import { createColumnHelper } from '@tanstack/react-table';
import { load } from '../api';
import { type GetAnswer, useSession } from '../context';
import { formatCredits, formatDateTime, humanize } from '../format';
import { useLoad } from '../use-load';
import { DataTable } from './data-table';
import { Loaded } from './states';

type Rate = GetAnswer<'/v1/accounts/{accountId}/rates'>['rates'][number];

const column = createColumnHelper<Rate>();
const COLUMNS = [
  column.accessor('feature', { header: 'Feature', cell: (c) => humanize(c.getValue()) }),
  column.accessor('action', {
    header: 'Action',
    cell: (c) => (c.getValue() === undefined ? <em>default for the feature</em> : humanize(c.getValue()!)),
  }),
  column.accessor('creditType', { header: 'Credit type' }),
  column.accessor('credits', { header: 'Credits per unit', cell: (c) => formatCredits(c.getValue()), meta: { numeric: true } }),
];
const rateId = (r: Rate) => `${r.feature}/${r.action ?? '*'}`;

function pricing(clientPrices: boolean): string {
  return clientPrices
    ? 'Client prices are allowed: a consumption may state its own credits; without them, this card prices it.'
    : 'Client prices are not allowed: every consumption is priced by this card.';
}

/** The rate card in force and the pending one (a plan change at the next cycle), on the overview. */
export function RateCard({ accountId, timeZone }: { accountId: string; timeZone: string }) {
  const { api } = useSession();
  const rates = useLoad((retry) => load(() => api.GET('/v1/accounts/{accountId}/rates', { params: { path: { accountId } } }), retry), [accountId]);
  return (
    <section aria-labelledby="rates-title" data-testid="rate-card">
      <h2 id="rates-title">Rate card</h2>
      <Loaded state={rates} what="the rate card">
        {(r) => (
          <>
            <p data-testid="client-prices">
              {r.planId ? `Plan ${r.planId}. ` : ''}
              {pricing(r.clientPrices)}
            </p>
            {r.rates.length === 0 ? (
              <p className="state empty">No rate card: every consumption states its own credits.</p>
            ) : (
              <DataTable data={r.rates} columns={COLUMNS} rowId={rateId} label="Rates in force" testId="rates" />
            )}
            {r.pending && (
              <>
                <h3 data-testid="pending-rates-title">
                  From {formatDateTime(r.pending.effectiveAt, timeZone)}
                  {r.pending.planId ? ` (plan ${r.pending.planId})` : ''}
                </h3>
                <p>{pricing(r.pending.clientPrices)}</p>
                {r.pending.rates.length === 0 ? (
                  <p className="state empty">No rate card from then on.</p>
                ) : (
                  <DataTable data={r.pending.rates} columns={COLUMNS} rowId={rateId} label="Rates from the next cycle" testId="pending-rates" />
                )}
              </>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}
