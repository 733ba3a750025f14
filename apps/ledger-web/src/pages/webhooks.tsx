import { useEffect, useState, type FormEvent } from 'react';
import { load } from '../api';
import { Link } from '../components/link';
import { Empty, Failure, Loaded } from '../components/states';
import { useSession } from '../context';
import { formatDateTime } from '../format';
import { navigate, useLocation } from '../router';
import { useLoad } from '../use-load';
import {
  ACCOUNT_EVENT_TYPES,
  deliveryAction,
  type DeliveryStatus,
  endpointState,
  lastAttemptAt,
  parseStatusFilter,
  urlProblem,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
} from '../webhooks-data';

export const DELIVERIES_PAGE = 50;

const utc = (iso: string | null) => (iso ? `${formatDateTime(iso, 'UTC')} UTC` : '—');

/** A secret the API shows once (creation, rotation): copy it now. */
function SecretShownOnce({ what, secret, onDone }: { what: string; secret: string; onDone: () => void }) {
  return (
    <div className="state ok created-key" role="status" data-testid="webhook-secret">
      <strong>{what}: copy the signing secret now, it is not shown again.</strong>
      <p>
        <code data-testid="webhook-secret-value">{secret}</code>{' '}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </button>{' '}
        <button type="button" onClick={onDone}>
          Done
        </button>
      </p>
    </div>
  );
}

interface EndpointDraft {
  url: string;
  description: string;
  eventTypes: WebhookEventType[];
}

/** URL, description and event types: the create form and the edit form. */
function EndpointForm({
  initial,
  label,
  submitLabel,
  busy,
  onSubmit,
  onCancel,
  testId,
}: {
  initial: EndpointDraft;
  label: string;
  submitLabel: string;
  busy: boolean;
  onSubmit: (draft: EndpointDraft) => Promise<boolean>;
  onCancel?: () => void;
  testId: string;
}) {
  const [draft, setDraft] = useState(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const toggle = (type: WebhookEventType, on: boolean) =>
    setDraft((d) => ({ ...d, eventTypes: on ? [...d.eventTypes, type] : d.eventTypes.filter((t) => t !== type) }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const bad = urlProblem(draft.url) ?? (draft.eventTypes.length === 0 ? 'Choose at least one event type.' : null);
    setProblem(bad);
    if (bad) return;
    void onSubmit(draft).then((done) => {
      if (done && !onCancel) setDraft(initial);
    });
  };
  return (
    <form className="webhook-form" onSubmit={submit} aria-label={label} data-testid={testId}>
      <label>
        Endpoint URL
        <input
          type="url"
          value={draft.url}
          onChange={(e) => setDraft({ ...draft, url: e.target.value })}
          required
          maxLength={2048}
          placeholder="https://example.com/hooks/credits"
          data-testid={`${testId}-url`}
        />
      </label>
      <label>
        Description (optional)
        <input
          value={draft.description}
          onChange={(e) => setDraft({ ...draft, description: e.target.value })}
          maxLength={500}
          data-testid={`${testId}-description`}
        />
      </label>
      <fieldset className="event-types">
        <legend>Event types</legend>
        {ACCOUNT_EVENT_TYPES.map(({ type, help }) => (
          <label key={type} className="toggle">
            <input
              type="checkbox"
              checked={draft.eventTypes.includes(type)}
              onChange={(e) => toggle(type, e.target.checked)}
              data-testid={`${testId}-type-${type}`}
            />
            <span>
              <code>{type}</code> <small>{help}</small>
            </span>
          </label>
        ))}
      </fieldset>
      {problem && (
        <p className="state warning" role="alert">
          {problem}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy} data-testid={`${testId}-submit`}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** The delivery log of one endpoint: newest first, filtered by status, older pages on demand; retry, replay. */
function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const { api, accountId, accountQuery } = useSession();
  const id = accountId!;
  const location = useLocation();
  const status = parseStatusFilter(location.params.get('status'));
  const path = { accountId: id, webhookId: endpoint.webhookId };
  const first = useLoad(
    (retry) =>
      load(
        () =>
          api.GET('/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries', {
            params: { path, query: { status: status ?? undefined, limit: DELIVERIES_PAGE } },
          }),
        retry,
      ),
    [id, endpoint.webhookId, status],
  );
  const [older, setOlder] = useState<{ items: WebhookDelivery[]; nextCursor: number | null } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [fromPosition, setFromPosition] = useState('');
  // Older pages belong to the first page they continued: dropped when it is loaded again.
  useEffect(() => setOlder(null), [status]);
  const refresh = () => {
    setOlder(null);
    first.reload();
  };

  const setStatus = (value: DeliveryStatus | null) => {
    const params = new URLSearchParams(location.params);
    if (value) params.set('status', value);
    else params.delete('status');
    navigate(location.path, params, { replace: true });
  };
  const loadOlder = (before: number) =>
    load(() =>
      api.GET('/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries', {
        params: { path, query: { status: status ?? undefined, limit: DELIVERIES_PAGE, before } },
      }),
    ).then((page) => setOlder((o) => ({ items: [...(o?.items ?? []), ...page.items], nextCursor: page.nextCursor })), setFailure);
  const retry = (delivery: WebhookDelivery) => {
    setFailure(null);
    load(() =>
      api.POST('/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries/{deliveryId}/retry', {
        params: { path: { ...path, deliveryId: delivery.deliveryId } },
      }),
    ).then(() => {
      setMessage(`Delivery ${delivery.deliveryId} (${delivery.type}) is due again now, in its lane’s order.`);
      refresh();
    }, setFailure);
  };
  const replay = (position: number) => {
    setFailure(null);
    load(() => api.POST('/v1/accounts/{accountId}/webhooks/{webhookId}/replay', { params: { path, query: { fromPosition: position } } })).then((answer) => {
      setMessage(
        `Replay from position ${position}: ${answer.replayed} ${answer.replayed === 1 ? 'delivery' : 'deliveries'} queued` +
          (answer.nextPosition === null ? '.' : `; more to replay from position ${answer.nextPosition}.`),
      );
      refresh();
    }, setFailure);
  };
  const submitReplay = (e: FormEvent) => {
    e.preventDefault();
    const position = Number(fromPosition);
    if (fromPosition.trim() === '' || !Number.isSafeInteger(position) || position < 0) {
      setFailure(null);
      setMessage('The position is a whole number, 0 or more (a ledger position: see a delivery’s or the audit trail’s).');
      return;
    }
    replay(position);
  };

  return (
    <section aria-labelledby="deliveries-title" className="deliveries" data-testid="deliveries">
      <div className="page-head">
        <h2 id="deliveries-title">
          Deliveries to <code>{endpoint.url}</code>
        </h2>
        <button type="button" onClick={refresh} data-testid="deliveries-refresh">
          Refresh
        </button>
      </div>
      <div className="filters">
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => setStatus(parseStatusFilter(e.target.value))} data-testid="deliveries-status">
            <option value="">all</option>
            <option value="pending">pending</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <form className="replay-form" onSubmit={submitReplay} aria-label="Replay">
          <label>
            Replay from ledger position
            <input inputMode="numeric" value={fromPosition} onChange={(e) => setFromPosition(e.target.value)} data-testid="replay-from" />
          </label>
          <button type="submit" data-testid="replay-submit">
            Replay
          </button>
        </form>
      </div>
      {message && (
        <p className="state ok" role="status" data-testid="deliveries-message">
          {message}
        </p>
      )}
      {failure !== null && <Failure error={failure} />}
      <Loaded state={first} what="the deliveries">
        {(page) => {
          const items = [...page.items, ...(older?.items ?? [])];
          const cursor = older ? older.nextCursor : page.nextCursor;
          if (items.length === 0)
            return <Empty>{status ? `No ${status} deliveries.` : 'Nothing delivered yet: deliveries appear here after the next matching event.'}</Empty>;
          return (
            <>
              <div className="table-wrap">
                <table className="simple deliveries-table" data-testid="deliveries-table">
                  <thead>
                    <tr>
                      <th scope="col">Event type</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="numeric">
                        Attempts
                      </th>
                      <th scope="col">Last response</th>
                      <th scope="col">Created</th>
                      <th scope="col">Last attempt</th>
                      <th scope="col">Next attempt / done</th>
                      <th scope="col" className="numeric">
                        Position
                      </th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((d) => {
                      const last = d.attempts.length === 0 ? null : d.attempts[d.attempts.length - 1];
                      return (
                        <tr key={d.deliveryId} data-delivery-id={d.deliveryId} data-status={d.status}>
                          <td>
                            <code>{d.type}</code>
                            {d.origin === 'replay' ? <small> (replay)</small> : null}
                          </td>
                          <td className={`status ${d.status}`}>{d.status}</td>
                          <td className="numeric">{d.attemptCount}</td>
                          <td data-testid="last-response">
                            {last === null ? '—' : last.statusCode !== null ? String(last.statusCode) : `no answer: ${last.error ?? ''}`}
                          </td>
                          <td>{utc(d.createdAt)}</td>
                          <td>{utc(lastAttemptAt(d))}</td>
                          <td>
                            {d.completedAt
                              ? utc(d.completedAt)
                              : d.nextAttemptAt
                                ? `next ${utc(d.nextAttemptAt)}`
                                : d.status === 'pending'
                                  ? 'waiting in its lane'
                                  : '—'}
                          </td>
                          <td className="numeric">{d.position}</td>
                          <td>
                            {deliveryAction(d) === 'retry' ? (
                              <button type="button" onClick={() => retry(d)} data-testid={`retry-${d.deliveryId}`}>
                                Retry now
                              </button>
                            ) : (
                              <button type="button" onClick={() => replay(d.position)} data-testid={`replay-${d.deliveryId}`}>
                                Replay from here
                              </button>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {cursor !== null && (
                <div className="pager">
                  <button type="button" onClick={() => void loadOlder(cursor)} data-testid="deliveries-older">
                    Older deliveries
                  </button>
                </div>
              )}
              <p className="hint">
                Times in UTC. A failed delivery is retried on its schedule for 3 days; “Retry now” makes it due at once. Replay sends again what derives from
                ledger events at or after a position, with the same webhook-ids.{' '}
                <Link to="/audit" params={accountQuery}>
                  The audit trail
                </Link>{' '}
                shows the positions.
              </p>
            </>
          );
        }}
      </Loaded>
    </section>
  );
}

/** Webhooks (admin): the account's endpoints (create, edit, disable, rotate, delete) and each one's delivery log. */
export default function WebhooksPage() {
  const { api, accountId, accountQuery } = useSession();
  const id = accountId!;
  const location = useLocation();
  const selectedId = location.params.get('webhook');
  const endpoints = useLoad((retry) => load(() => api.GET('/v1/accounts/{accountId}/webhooks', { params: { path: { accountId: id } } }), retry), [id]);
  const [secret, setSecret] = useState<{ what: string; secret: string } | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const act = async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setFailure(null);
    try {
      const result = await work();
      endpoints.reload();
      return result;
    } catch (e) {
      setFailure(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const path = (webhookId: string) => ({ accountId: id, webhookId });
  const create = async (draft: EndpointDraft) => {
    const created = await act(() =>
      load(() =>
        api.POST('/v1/accounts/{accountId}/webhooks', {
          params: { path: { accountId: id } },
          body: { url: draft.url.trim(), eventTypes: draft.eventTypes, description: draft.description.trim() || null },
        }),
      ),
    );
    if (created) setSecret({ what: `Endpoint ${created.webhookId} created`, secret: created.secret });
    return created !== undefined;
  };
  const save = async (webhookId: string, draft: EndpointDraft) => {
    const saved = await act(() =>
      load(() =>
        api.PATCH('/v1/accounts/{accountId}/webhooks/{webhookId}', {
          params: { path: path(webhookId) },
          body: { url: draft.url.trim(), eventTypes: draft.eventTypes, description: draft.description.trim() || null },
        }),
      ),
    );
    if (saved) setEditing(null);
    return saved !== undefined;
  };
  const setEnabled = (webhookId: string, enabled: boolean) =>
    void act(() => load(() => api.PATCH('/v1/accounts/{accountId}/webhooks/{webhookId}', { params: { path: path(webhookId) }, body: { enabled } })));
  const rotate = (webhookId: string) => {
    if (!window.confirm(`Rotate the signing secret of ${webhookId}? The old secret keeps signing alongside the new one for 24 hours.`)) return;
    void act(() => load(() => api.POST('/v1/accounts/{accountId}/webhooks/{webhookId}/rotate-secret', { params: { path: path(webhookId) } }))).then(
      (answer) => {
        if (answer)
          setSecret({ what: `New secret for ${webhookId} (the previous one also signs until ${utc(answer.previousSecretExpiresAt)})`, secret: answer.secret });
      },
    );
  };
  const remove = (webhookId: string) => {
    if (!window.confirm(`Delete endpoint ${webhookId} and its delivery log? Nothing more is sent to it.`)) return;
    void act(() => load(() => api.DELETE('/v1/accounts/{accountId}/webhooks/{webhookId}', { params: { path: path(webhookId) } }))).then((answer) => {
      if (answer && selectedId === webhookId) navigate(location.path, accountQuery, { replace: true });
    });
  };
  const logParams = (webhookId: string) => new URLSearchParams({ ...Object.fromEntries(accountQuery), webhook: webhookId });

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p className="hint">
        Signed HTTP notifications of what happens to this account’s credits (Standard Webhooks), ordered per endpoint and retried for 3 days.
      </p>
      <details className="create-webhook" open={endpoints.status === 'ok' && endpoints.data.items.length === 0 ? true : undefined}>
        <summary>Add an endpoint</summary>
        <EndpointForm
          initial={{ url: '', description: '', eventTypes: [] }}
          label="Add an endpoint"
          submitLabel="Add endpoint"
          busy={busy}
          onSubmit={create}
          testId="webhook-create"
        />
      </details>
      {secret && <SecretShownOnce what={secret.what} secret={secret.secret} onDone={() => setSecret(null)} />}
      {failure !== null && <Failure error={failure} />}
      <Loaded state={endpoints} what="the endpoints">
        {(list) => {
          if (list.items.length === 0) return <Empty>No endpoints yet: add one to receive notifications.</Empty>;
          const selected = list.items.find((e) => e.webhookId === selectedId);
          return (
            <>
              <div className="table-wrap">
                <table className="simple" data-testid="webhooks">
                  <thead>
                    <tr>
                      <th scope="col">Endpoint</th>
                      <th scope="col">Event types</th>
                      <th scope="col">State</th>
                      <th scope="col">Created</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.items.map((endpoint) => {
                      const state = endpointState(endpoint);
                      return (
                        <tr key={endpoint.webhookId} data-webhook-id={endpoint.webhookId} className={endpoint.webhookId === selectedId ? 'focused' : undefined}>
                          <td className="endpoint-url">
                            <code>{endpoint.url}</code>
                            {endpoint.description ? <small> {endpoint.description}</small> : null}
                            <br />
                            <small>{endpoint.webhookId}</small>
                          </td>
                          <td>
                            <ul className="type-list">
                              {endpoint.eventTypes.map((t) => (
                                <li key={t}>
                                  <code>{t}</code>
                                </li>
                              ))}
                            </ul>
                          </td>
                          <td className={`endpoint-state ${state.tone}`} data-testid="webhook-state">
                            {state.label}
                          </td>
                          <td>{utc(endpoint.createdAt)}</td>
                          <td>
                            <div className="row-actions">
                              <Link to="/webhooks" params={logParams(endpoint.webhookId)} current={endpoint.webhookId === selectedId}>
                                Deliveries
                              </Link>
                              <button type="button" onClick={() => setEditing(endpoint.webhookId)} data-testid={`edit-${endpoint.webhookId}`}>
                                Edit
                              </button>
                              <button
                                type="button"
                                onClick={() => setEnabled(endpoint.webhookId, !endpoint.enabled)}
                                disabled={busy}
                                data-testid={`toggle-${endpoint.webhookId}`}
                              >
                                {endpoint.enabled ? 'Disable' : 'Enable'}
                              </button>
                              <button type="button" onClick={() => rotate(endpoint.webhookId)} disabled={busy} data-testid={`rotate-${endpoint.webhookId}`}>
                                Rotate secret
                              </button>
                              <button type="button" onClick={() => remove(endpoint.webhookId)} disabled={busy} data-testid={`delete-${endpoint.webhookId}`}>
                                Delete
                              </button>
                            </div>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {editing !== null &&
                (() => {
                  const endpoint = list.items.find((e) => e.webhookId === editing);
                  if (!endpoint) return null;
                  return (
                    <section aria-labelledby="edit-title" className="edit-webhook">
                      <h2 id="edit-title">Edit {endpoint.webhookId}</h2>
                      <EndpointForm
                        key={endpoint.webhookId}
                        initial={{
                          url: endpoint.url,
                          description: endpoint.description ?? '',
                          eventTypes: endpoint.eventTypes.filter((t) => t !== 'endpoint.disabled'),
                        }}
                        label={`Edit ${endpoint.webhookId}`}
                        submitLabel="Save"
                        busy={busy}
                        onSubmit={(draft) => save(endpoint.webhookId, draft)}
                        onCancel={() => setEditing(null)}
                        testId="webhook-edit"
                      />
                    </section>
                  );
                })()}
              {selectedId !== null &&
                (selected ? <DeliveryLog key={selected.webhookId} endpoint={selected} /> : <Empty>No endpoint {selectedId} on this account.</Empty>)}
            </>
          );
        }}
      </Loaded>
    </section>
  );
}
