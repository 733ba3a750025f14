import { load } from '../api';
import { Loaded } from '../components/states';
import { type AccountView, useSession } from '../context';
import { formatCredits, formatDate } from '../format';
import { useLoad } from '../use-load';

const FIGURES = [
  ['allocated', 'Allocated'],
  ['rolledIn', 'Rolled in'],
  ['granted', 'Granted'],
  ['used', 'Used'],
  ['refunded', 'Refunded'],
  ['expired', 'Expired'],
  ['remaining', 'Remaining'],
  ['carriedOver', 'Carried over'],
] as const;

/** Closed cycles with their closing figures per credit type, newest first. */
export function CyclesPage({ account }: { account: AccountView }) {
  const { api, accountId } = useSession();
  const id = accountId!;
  const cycles = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/cycles', { params: { path: { accountId: id }, query: { limit: 100 } } }), retry),
    [id],
  );
  const tz = account.schedule.timezone;
  return (
    <section aria-labelledby="cycles-title">
      <h1 id="cycles-title">Cycles</h1>
      <Loaded state={cycles} what="the cycles">
        {(c) => {
          const closed = c.items.filter((i) => i.status === 'closed');
          if (closed.length === 0) return <p className="state empty">No cycle has closed yet; the open one ends on {formatDate(account.cycle.endsAt, tz)}.</p>;
          return closed.map((cycle) => (
            <div key={cycle.cycleId} className="cycle-block">
              <div className="table-wrap">
                <table className="simple" data-testid={`cycle-${cycle.cycleId}`}>
                  <caption>
                    Cycle {cycle.cycleId}: {formatDate(cycle.startedAt, tz)} – {formatDate(cycle.closedAt ?? cycle.endsAt, tz)}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Credit type</th>
                      {FIGURES.map(([, label]) => (
                        <th key={label} scope="col" className="numeric">
                          {label}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {(cycle.closing ?? []).map((f) => (
                      <tr key={f.creditType}>
                        <th scope="row">{f.creditType}</th>
                        {FIGURES.map(([key, label]) => (
                          <td key={label} className="numeric">
                            {formatCredits(((f as Record<string, unknown>)[key] as number) ?? 0)}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ));
        }}
      </Loaded>
    </section>
  );
}
