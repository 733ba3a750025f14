import { load } from '../api';
import { Loaded } from '../components/states';
import { type AccountView, can, useSession } from '../context';
import { daysUntil } from '../dates';
import { RateCard } from '../components/rate-card';
import { formatCredits, formatDate, formatDateTime, formatDaysLeft, formatPercent, formatRate } from '../format';
import { cardFigures, depletionOutlook } from '../projection';
import { useLoad } from '../use-load';

/** Used / Total per credit type, the cycle, the forecast, thresholds and grants. */
export function OverviewPage({ account }: { account: AccountView }) {
  const { api, me, accountId } = useSession();
  const id = accountId!;
  const tz = account.schedule.timezone;
  const balances = useLoad((retry) => load(() => api.GET('/v1/accounts/{accountId}/balances', { params: { path: { accountId: id } } }), retry), [id]);
  const alerts = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/alerts', { params: { path: { accountId: id }, query: { limit: 20 } } }), retry),
    [id],
    can(me.role, 'alerts'),
  );
  const now = Date.now();
  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">{account.name}</h1>
        <p className="cycle" data-testid="cycle">
          Cycle {account.cycle.cycleId}: {formatDate(account.cycle.startedAt, tz)} – {formatDate(account.cycle.endsAt, tz)} ·{' '}
          <strong>{formatDaysLeft(daysUntil(account.cycle.endsAt, now))}</strong>
        </p>
      </div>
      <Loaded state={balances} what="the balances">
        {(b) => (
          <div className="cards">
            {b.balances.map((bal) => {
              const fig = cardFigures(bal);
              const outlook = depletionOutlook(bal, bal.forecast, now, account.cycle.endsAt);
              return (
                <article
                  key={bal.creditType}
                  className={`card ${fig.level}`}
                  data-testid={`card-${bal.creditType}`}
                  aria-labelledby={`card-${bal.creditType}-title`}
                >
                  <h2 id={`card-${bal.creditType}-title`}>{bal.creditType}</h2>
                  <p className="used-total">
                    <span data-testid="used">{formatCredits(fig.used)}</span> / <span data-testid="total">{formatCredits(fig.total)}</span> <small>used</small>
                  </p>
                  <meter min={0} max={1} low={0.8} high={0.99} optimum={0} value={fig.ratio} aria-label={`${bal.creditType}: ${formatPercent(fig.ratio)} used`}>
                    {formatPercent(fig.ratio)}
                  </meter>
                  <dl className="figures">
                    <div>
                      <dt>Remaining</dt>
                      <dd data-testid="remaining">{formatCredits(bal.remaining)}</dd>
                    </div>
                    <div>
                      <dt>Reserved</dt>
                      <dd data-testid="reserved" title="held by open reservations, not yet used">
                        {formatCredits(bal.reserved)}
                      </dd>
                    </div>
                    <div>
                      <dt>Available</dt>
                      <dd data-testid="available" title="remaining − reserved: what new consumptions and reservations may use">
                        {formatCredits(bal.available)}
                      </dd>
                    </div>
                    <div>
                      <dt>Refunded</dt>
                      <dd>{formatCredits(bal.refunded)}</dd>
                    </div>
                    <div>
                      <dt>Expired</dt>
                      <dd>{formatCredits(bal.expired)}</dd>
                    </div>
                    <div>
                      <dt>Total</dt>
                      <dd title="allocated + rolled in + granted">
                        {formatCredits(bal.allocated)} + {formatCredits(bal.rolledIn)} + {formatCredits(bal.granted)}
                      </dd>
                    </div>
                  </dl>
                  <p className="forecast" data-testid="forecast">
                    {outlook.kind === 'depleted'
                      ? 'Depleted: no credits left this cycle.'
                      : outlook.kind === 'runs-out'
                        ? `Runs out on ${formatDate(outlook.at, tz)} at ${formatRate(bal.forecast.dailyBurn)} a day (${outlook.daysBeforeEnd} days before the cycle ends).`
                        : `Lasts this cycle${bal.forecast.dailyBurn > 0 ? ` at ${formatRate(bal.forecast.dailyBurn)} a day (about ${formatCredits(outlook.projectedUsedAtEnd)} used by the end)` : ''}.`}
                  </p>
                  <p className="thresholds">
                    Alerts at{' '}
                    {(account.thresholds[bal.creditType]?.thresholds ?? [])
                      .map((t) => (t.kind === 'percent_used' ? `${t.value}% used` : `${formatCredits(t.value)} left`))
                      .join(', ') || 'none'}
                    {account.thresholds[bal.creditType]?.alerted.length ? ` · crossed: ${account.thresholds[bal.creditType].alerted.join(', ')}` : ''}
                  </p>
                </article>
              );
            })}
          </div>
        )}
      </Loaded>
      <RateCard accountId={id} timeZone={tz} />
      <h2>Grants</h2>
      {account.grants.length === 0 ? (
        <p className="state empty">No grant holds credits now.</p>
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th scope="col">Grant</th>
              <th scope="col">Credit type</th>
              <th scope="col" className="numeric">
                Remaining / granted
              </th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {account.grants.map((g) => (
              <tr key={g.grantId}>
                <td>{g.grantId}</td>
                <td>{g.creditType}</td>
                <td className="numeric">
                  {formatCredits(g.remaining)} / {formatCredits(g.credits)}
                </td>
                <td>{g.expiresAt ? formatDateTime(g.expiresAt, tz) : 'never'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {can(me.role, 'alerts') && (
        <>
          <h2>Threshold alerts</h2>
          <Loaded state={alerts} what="the alerts">
            {(a) =>
              a.items.length === 0 ? (
                <p className="state empty">No threshold crossed yet.</p>
              ) : (
                <ul className="alerts">
                  {a.items.map((al) => (
                    <li key={`${al.cycleId}-${al.creditType}-${al.thresholdId}`}>
                      {formatDateTime(al.occurredAt, tz)}: <strong>{al.creditType}</strong>{' '}
                      {al.threshold.kind === 'percent_used' ? `reached ${al.threshold.value}% used` : `fell to ${formatCredits(al.threshold.value)} left`}{' '}
                      (cycle {al.cycleId})
                    </li>
                  ))}
                </ul>
              )
            }
          </Loaded>
        </>
      )}
    </section>
  );
}
