import { useState } from 'react';
import { load } from '../api';
import { Link } from '../components/link';
import { Failure, Loaded } from '../components/states';
import { type AccountView, type GetAnswer, useSession } from '../context';
import { formatDateTime } from '../format';
import { useLocation } from '../router';
import { useLoad } from '../use-load';

export const AUDIT_PAGE_EVENTS = 100;
type VerifyAnswer = {
  ok: boolean;
  chain: { ok: boolean; eventsChecked: number; firstBreak: { position: number; revision?: number; problem: string; detail: string } | null };
  eventsChecked: number;
  differenceCount: number;
  differences: { readModel: string; key: string; expected?: unknown; actual?: unknown }[];
};
type EventItem = GetAnswer<'/v1/accounts/{accountId}/events'>['items'][number];

function actorOf(e: EventItem): string {
  const actor = (e.metadata as { actor?: unknown }).actor;
  return typeof actor === 'string' ? actor : '—';
}
function timeOf(e: EventItem): string {
  const m = e.metadata as { occurredAt?: string; recordedAt?: string };
  return m.occurredAt ?? m.recordedAt ?? '';
}

/** The account's events in order (payloads expandable), and "Verify this account". */
export function AuditPage({ account }: { account: AccountView }) {
  const { api, accountId, accountQuery } = useSession();
  const id = accountId!;
  const location = useLocation();
  const focus = Number(location.params.get('position') ?? '') || undefined;
  const after = Number(location.params.get('after') ?? '') || (focus !== undefined ? focus - 1 : 0);
  const events = useLoad(
    (retry) =>
      load(() => api.GET('/v1/accounts/{accountId}/events', { params: { path: { accountId: id }, query: { after, limit: AUDIT_PAGE_EVENTS } } }), retry),
    [id, after],
  );
  const [verify, setVerify] = useState<{ status: 'idle' | 'running' } | { status: 'done'; result: VerifyAnswer } | { status: 'error'; error: unknown }>({
    status: 'idle',
  });
  const runVerify = () => {
    setVerify({ status: 'running' });
    load(() => api.POST('/v1/accounts/{accountId}/verify', { params: { path: { accountId: id } } })).then(
      (result) => setVerify({ status: 'done', result: result as VerifyAnswer }),
      (error: unknown) => setVerify({ status: 'error', error }),
    );
  };
  const tz = account.schedule.timezone;
  const nextParams = (nextAfter: number) => new URLSearchParams({ ...Object.fromEntries(accountQuery), after: String(nextAfter) });
  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit trail</h1>
        <button type="button" className="primary" onClick={runVerify} disabled={verify.status === 'running'} data-testid="verify">
          {verify.status === 'running' ? 'Verifying…' : 'Verify this account'}
        </button>
      </div>
      {verify.status === 'error' && <Failure error={verify.error} onRetry={runVerify} />}
      {verify.status === 'done' && (
        <div className={`state ${verify.result.ok ? 'ok' : 'error'}`} role="status" data-testid="verify-result">
          {verify.result.ok ? (
            <strong>
              Verified: the hash chain holds over {verify.result.chain.eventsChecked} events; {verify.result.eventsChecked} events re-derived, every balance and
              read-model row matches.
            </strong>
          ) : (
            <>
              {verify.result.chain.firstBreak ? (
                <p data-testid="verify-chain-break">
                  <strong>
                    Hash chain broken at position {verify.result.chain.firstBreak.position}
                    {verify.result.chain.firstBreak.revision === undefined ? '' : ` (revision ${verify.result.chain.firstBreak.revision})`}:{' '}
                    {verify.result.chain.firstBreak.problem}
                  </strong>{' '}
                  — {verify.result.chain.firstBreak.detail}
                </p>
              ) : (
                <p>The hash chain holds over {verify.result.chain.eventsChecked} events.</p>
              )}
              {verify.result.differenceCount > 0 && (
                <>
                  <strong>
                    {verify.result.differenceCount} difference{verify.result.differenceCount === 1 ? '' : 's'} between the events and the read models
                  </strong>
                  <table className="simple">
                    <thead>
                      <tr>
                        <th scope="col">Read model</th>
                        <th scope="col">Row</th>
                        <th scope="col">From the events</th>
                        <th scope="col">Held</th>
                      </tr>
                    </thead>
                    <tbody>
                      {verify.result.differences.map((d) => (
                        <tr key={`${d.readModel} ${d.key}`}>
                          <td>{d.readModel}</td>
                          <td>{d.key}</td>
                          <td>
                            <code>{JSON.stringify(d.expected) ?? 'none'}</code>
                          </td>
                          <td>
                            <code>{JSON.stringify(d.actual) ?? 'none'}</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
            </>
          )}
        </div>
      )}
      <Loaded state={events} what="the events">
        {(page) =>
          page.items.length === 0 ? (
            <p className="state empty">No events after position {after}.</p>
          ) : (
            <>
              <div className="table-wrap">
                <table className="simple events" data-testid="events">
                  <thead>
                    <tr>
                      <th scope="col">Position</th>
                      <th scope="col">Revision</th>
                      <th scope="col">Type</th>
                      <th scope="col">Time</th>
                      <th scope="col">Actor</th>
                      <th scope="col">Payload</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((e) => (
                      <tr key={e.position} className={e.position === focus ? 'focused' : undefined} data-position={e.position}>
                        <td className="numeric">{e.position}</td>
                        <td className="numeric">{e.revision}</td>
                        <td>{e.type}</td>
                        <td>{timeOf(e) ? formatDateTime(timeOf(e), tz) : ''}</td>
                        <td>{actorOf(e)}</td>
                        <td>
                          <details open={e.position === focus}>
                            <summary>data</summary>
                            <pre>{JSON.stringify(e.data, null, 2)}</pre>
                          </details>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav className="pager" aria-label="Audit pages">
                {after > 0 && (
                  <Link to="/audit" params={nextParams(0)}>
                    First events
                  </Link>
                )}
                {page.nextAfter !== null && page.items.length === AUDIT_PAGE_EVENTS && (
                  <Link to="/audit" params={nextParams(page.nextAfter)}>
                    Next {AUDIT_PAGE_EVENTS} events
                  </Link>
                )}
              </nav>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
