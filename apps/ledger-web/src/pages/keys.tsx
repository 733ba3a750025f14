import { useState, type FormEvent } from 'react';
import { load } from '../api';
import { Failure, Loaded } from '../components/states';
import { useSession } from '../context';
import { formatDateTime } from '../format';
import { useLoad } from '../use-load';

type NewRole = 'member' | 'analyst' | 'service';
const ROLE_HELP: Record<NewRole, string> = {
  member: 'sees only their own usage',
  analyst: 'reads everything, changes nothing',
  service: 'for applications: records consumptions, refunds and grants',
};

/** Team keys (admin): create member, analyst and service keys (shown once), list and revoke them. */
export function KeysPage() {
  const { api, accountId, me } = useSession();
  const id = accountId!;
  const keys = useLoad((retry) => load(() => api.GET('/v1/accounts/{accountId}/keys', { params: { path: { accountId: id } } }), retry), [id]);
  const [role, setRole] = useState<NewRole>('member');
  const [userId, setUserId] = useState('');
  const [created, setCreated] = useState<{ key: string; keyId: string; role: string; userId: string | null } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const create = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    load(() =>
      api.POST('/v1/accounts/{accountId}/keys', {
        params: { path: { accountId: id } },
        body: { role, ...(role === 'member' ? { userId: userId.trim() } : {}) },
      }),
    )
      .then((answer) => {
        setCreated({ key: answer.key, keyId: answer.keyId, role: answer.role, userId: answer.userId });
        setUserId('');
        keys.reload();
      })
      .catch(setFailure)
      .finally(() => setBusy(false));
  };
  const revoke = (keyId: string) => {
    if (!window.confirm(`Revoke key ${keyId}? Requests with it are refused within a second.`)) return;
    load(() => api.DELETE('/v1/accounts/{accountId}/keys/{keyId}', { params: { path: { accountId: id, keyId } } }))
      .then(() => keys.reload())
      .catch(setFailure);
  };
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Team keys</h1>
      <form className="key-form" onSubmit={create} aria-label="Create a key">
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as NewRole)} data-testid="key-role">
            {(Object.keys(ROLE_HELP) as NewRole[]).map((r) => (
              <option key={r} value={r}>
                {r} — {ROLE_HELP[r]}
              </option>
            ))}
          </select>
        </label>
        {role === 'member' && (
          <label>
            Team member id
            <input value={userId} onChange={(e) => setUserId(e.target.value)} required maxLength={128} placeholder="ana@acme.test" data-testid="key-user" />
          </label>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="key-create">
          Create key
        </button>
      </form>
      {failure !== null && <Failure error={failure} />}
      {created && (
        <div className="state ok created-key" role="status" data-testid="created-key">
          <strong>
            New {created.role} key {created.keyId}
            {created.userId ? ` for ${created.userId}` : ''}: copy it now, it is not shown again.
          </strong>
          <p>
            <code data-testid="created-key-value">{created.key}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created.key)}>
              Copy
            </button>{' '}
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </p>
        </div>
      )}
      <Loaded state={keys} what="the keys">
        {(k) => (
          <div className="table-wrap">
            <table className="simple" data-testid="keys">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Team member</th>
                  <th scope="col">Created</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {k.items.map((key) => (
                  <tr key={key.keyId} data-key-id={key.keyId}>
                    <td>
                      <code>{key.keyId}</code>
                      {key.keyId === me.keyId ? ' (yours)' : ''}
                    </td>
                    <td>{key.role}</td>
                    <td>{key.userId ?? ''}</td>
                    <td>{formatDateTime(key.createdAt, 'UTC')} UTC</td>
                    <td>{key.revokedAt ? `revoked ${formatDateTime(key.revokedAt, 'UTC')} UTC` : 'active'}</td>
                    <td>
                      {!key.revokedAt && key.keyId !== me.keyId && (
                        <button type="button" onClick={() => revoke(key.keyId)} data-testid={`revoke-${key.keyId}`}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </section>
  );
}
