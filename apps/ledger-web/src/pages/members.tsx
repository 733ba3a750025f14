import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { createColumnHelper } from '@tanstack/react-table';
import { load } from '../api';
import { DataTable } from '../components/data-table';
import { LimitsEditor } from '../components/limits-editor';
import { Link } from '../components/link';
import { Failure, Loaded, Problems } from '../components/states';
import { type AccountView, can, type GetAnswer, useSession } from '../context';
import { formatCredits, formatPercent } from '../format';
import { budgetFigures, type MemberBudget, parseMembersParams } from '../members';
import { useLocation } from '../router';
import { useLoad } from '../use-load';

type Member = GetAnswer<'/v1/accounts/{accountId}/members'>['items'][number];
type Editing = { readonly kind: 'member'; readonly userId: string; readonly limits: Record<string, number> } | { readonly kind: 'default' };

/** Members per page of the list; "Show more members" asks for the next. */
export const MEMBERS_PAGE_SIZE = 50;

const column = createColumnHelper<Member>();

function Budget({ creditType, budget }: { creditType: string; budget: MemberBudget }) {
  const fig = budgetFigures(budget);
  return (
    <div className={`budget ${fig.level}`} data-testid={`budget-${creditType}`}>
      <span className="used-limit">
        <span data-testid="used">{formatCredits(budget.used)}</span>
        {budget.limit === null ? (
          <>
            {' '}
            used · <span data-testid="limit">no limit</span>
          </>
        ) : (
          <>
            {' '}
            / <span data-testid="limit">{formatCredits(budget.limit)}</span>
          </>
        )}
      </span>
      {fig.ratio !== null && (
        <meter
          min={0}
          max={1}
          low={0.8}
          high={0.99}
          optimum={0}
          value={fig.ratio}
          aria-label={`${creditType}: ${formatPercent(fig.ratio)} of the limit used or held`}
        >
          {formatPercent(fig.ratio)}
        </meter>
      )}
      <small>
        {budget.reserved > 0 && (
          <>
            <span data-testid="reserved">{formatCredits(budget.reserved)}</span> held{budget.limit === null ? '' : ' · '}
          </>
        )}
        {budget.limit === null ? '' : `${fig.source}, ${formatCredits(budget.remaining ?? 0)} left`}
      </small>
    </div>
  );
}

/**
 * Members: each member's use of this cycle against their limit per credit type. Admins edit a
 * member's limits and the account's defaults; analysts read; a member key sees only itself.
 */
export function MembersPage({ account }: { account: AccountView }) {
  const { api, me, accountId, accountQuery } = useSession();
  const id = accountId!;
  const location = useLocation();
  const { user, problems } = useMemo(() => parseMembersParams(location.params), [location.params]);
  const creditTypes = useMemo(() => Object.keys(account.plan.creditTypes), [account]);
  const listAll = can(me.role, 'listMembers') && user === undefined;
  // A member key asks for itself; a link naming someone else goes to the server, which refuses it (403).
  const one = user ?? (listAll ? undefined : (me.userId ?? undefined));
  const editable = can(me.role, 'editLimits');

  const list = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/members', { params: { path: { accountId: id }, query: { limit: MEMBERS_PAGE_SIZE } } }), retry),
    [id],
    listAll,
  );
  const single = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}/members/{userId}', { params: { path: { accountId: id, userId: one! } } }), retry),
    [id, one],
    !listAll && one !== undefined,
  );
  const [more, setMore] = useState<{ rows: Member[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [otherId, setOtherId] = useState('');
  const [otherError, setOtherError] = useState<unknown>(null);
  // Where the keyboard goes when the editor closes: the saved message, or the page's title.
  const savedRef = useRef<HTMLParagraphElement>(null);
  const titleRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (saved) savedRef.current?.focus();
  }, [saved]);
  const closeEditor = () => {
    setEditing(null);
    titleRef.current?.focus();
  };

  const firstPage = list.status === 'ok' ? list.data : undefined;
  const defaults = firstPage?.defaultLimits ?? {};
  const cursor = more ? more.cursor : (firstPage?.nextCursor ?? null);
  const showMore = () => {
    if (!cursor) return;
    load(() => api.GET('/v1/accounts/{accountId}/members', { params: { path: { accountId: id }, query: { limit: MEMBERS_PAGE_SIZE, cursor } } }))
      .then((page) => setMore((prev) => ({ rows: [...(prev?.rows ?? []), ...page.items], cursor: page.nextCursor })))
      .catch(setMoreError);
  };
  const reload = () => {
    setMore(null);
    list.reload();
    single.reload();
  };

  const historyOf = (userId: string) => {
    const params = new URLSearchParams(accountQuery);
    params.set('user', userId);
    return params;
  };
  const columns = useMemo(
    () => [
      column.accessor('userId', {
        header: 'Member',
        cell: (c) => (
          <Link to="/history" params={historyOf(c.getValue())}>
            <span className="visually-hidden">History of </span>
            {c.getValue()}
          </Link>
        ),
        meta: { rowHeader: true },
      }),
      ...creditTypes.map((t) =>
        column.display({
          id: `type-${t}`,
          header: t,
          cell: (c) => {
            const budget = c.row.original.creditTypes[t];
            return budget ? <Budget creditType={t} budget={budget} /> : '';
          },
        }),
      ),
      ...(editable
        ? [
            column.display({
              id: 'edit',
              header: () => <span className="visually-hidden">Actions</span>,
              cell: (c) => (
                <button
                  type="button"
                  onClick={() => {
                    setSaved(null);
                    setEditing({ kind: 'member', userId: c.row.original.userId, limits: c.row.original.limits });
                  }}
                  data-testid={`edit-${c.row.original.userId}`}
                >
                  Edit limits<span className="visually-hidden"> of {c.row.original.userId}</span>
                </button>
              ),
            }),
          ]
        : []),
    ],
    [creditTypes, editable, accountQuery],
  );

  const saveMember = (userId: string) => async (body: Record<string, number | null>) => {
    await load(() => api.PUT('/v1/accounts/{accountId}/members/{userId}/limits', { params: { path: { accountId: id, userId } }, body: { creditTypes: body } }));
    setEditing(null);
    setSaved(`The limits of ${userId} were saved.`);
    reload();
  };
  const saveDefaults = async (body: Record<string, number | null>) => {
    await load(() => api.PUT('/v1/accounts/{accountId}/members/default/limits', { params: { path: { accountId: id } }, body: { creditTypes: body } }));
    setEditing(null);
    setSaved('The account’s default limits were saved.');
    reload();
  };
  const editOther = (e: FormEvent) => {
    e.preventDefault();
    setOtherError(null);
    setSaved(null);
    const userId = otherId.trim();
    load(() => api.GET('/v1/accounts/{accountId}/members/{userId}', { params: { path: { accountId: id, userId } } }))
      .then((m) => {
        setEditing({ kind: 'member', userId: m.userId, limits: m.limits });
        setOtherId('');
      })
      .catch(setOtherError);
  };

  const table = (rows: readonly Member[]) => (
    <DataTable data={rows} columns={columns} rowId={(m) => m.userId} label="Members and their limits" testId="members" />
  );

  return (
    <section aria-labelledby="members-title">
      <div className="page-head">
        <h1 id="members-title" ref={titleRef} tabIndex={-1}>
          {listAll ? 'Members' : me.role === 'member' && one === me.userId ? 'Your spending limits' : `Member ${one ?? ''}`}
        </h1>
        <p className="cycle">
          Cycle {account.cycle.cycleId}: used and held credits against each member’s limit per credit type.
          {!editable && can(me.role, 'listMembers') ? ' Read-only: only an admin changes limits.' : ''}
        </p>
      </div>
      <Problems problems={problems} />
      {saved && (
        <p className="state ok" role="status" data-testid="limits-saved" ref={savedRef} tabIndex={-1}>
          {saved}
        </p>
      )}
      {editing && (
        <LimitsEditor
          key={editing.kind === 'member' ? `member-${editing.userId}` : 'default'}
          title={editing.kind === 'member' ? `Limits of ${editing.userId}` : 'Default limits of the account'}
          creditTypes={creditTypes}
          limits={editing.kind === 'member' ? editing.limits : defaults}
          fallback={(t) =>
            editing.kind === 'default' ? 'no limit' : Object.hasOwn(defaults, t) ? `account default: ${formatCredits(defaults[t])}` : 'no limit'
          }
          onSave={editing.kind === 'member' ? saveMember(editing.userId) : saveDefaults}
          onClose={closeEditor}
        />
      )}
      {listAll ? (
        <Loaded state={list} what="the members">
          {(page) => (
            <>
              <h2>Default limits</h2>
              <p className="defaults" data-testid="default-limits">
                Members without a limit of their own:{' '}
                {creditTypes.map((t) => `${t} ${Object.hasOwn(page.defaultLimits, t) ? formatCredits(page.defaultLimits[t]) : 'no limit'}`).join(' · ')}
                {editable && (
                  <>
                    {' '}
                    <button
                      type="button"
                      onClick={() => {
                        setSaved(null);
                        setEditing({ kind: 'default' });
                      }}
                      data-testid="edit-defaults"
                    >
                      Edit default limits
                    </button>
                  </>
                )}
              </p>
              <h2>This cycle</h2>
              {page.items.length === 0 ? (
                <p className="state empty">No member has used credits or been given a limit yet.</p>
              ) : (
                table([...page.items, ...(more?.rows ?? [])])
              )}
              {moreError !== null && <Failure error={moreError} onRetry={() => setMoreError(null)} />}
              {cursor && (
                <button type="button" onClick={showMore} data-testid="more-members">
                  Show more members
                </button>
              )}
              {editable && (
                <form className="key-form" onSubmit={editOther} aria-label="Set the limits of another member">
                  <label>
                    Another member’s id
                    <input value={otherId} onChange={(e) => setOtherId(e.target.value)} required placeholder="fay@acme.test" data-testid="other-member" />
                  </label>
                  <button type="submit" data-testid="other-member-edit">
                    Set limits
                  </button>
                </form>
              )}
              {otherError !== null && <Failure error={otherError} />}
            </>
          )}
        </Loaded>
      ) : one === undefined ? (
        <p className="state empty">This key has no team member id: there is no member to show.</p>
      ) : (
        <Loaded state={single} what="the member">
          {(m) => (
            <>
              {table([m])}
              {user !== undefined && can(me.role, 'listMembers') && (
                <p>
                  <Link to="/members" params={accountQuery}>
                    Show every member
                  </Link>
                </p>
              )}
            </>
          )}
        </Loaded>
      )}
    </section>
  );
}
