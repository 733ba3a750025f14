import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { apiFor, explain, LedgerApiError, load } from './api';
import { Link } from './components/link';
import { Failure, Loading } from './components/states';
import { type AccountView, can, type Me, type Session, SessionContext, useSession } from './context';
import { AuditPage } from './pages/audit';
import { BreakdownPage } from './pages/breakdown';
import { CyclesPage } from './pages/cycles';
import { HistoryPage } from './pages/history';
import { KeysPage } from './pages/keys';
import { OverviewPage } from './pages/overview';
import { SignInPage } from './pages/sign-in';
import { navigate, useLocation } from './router';
import { forgetKey, storedKey, storeKey } from './session';
import { setUnauthorizedHandler, useLoad } from './use-load';

// Loaded when first opened: the initial JavaScript carries only what every visit needs.
const MembersPage = lazy(() => import('./pages/members').then((m) => ({ default: m.MembersPage })));
// Admins only, and rarely opened: its code loads when the page is opened, not with the console.
const WebhooksPage = lazy(() => import('./pages/webhooks'));

const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/history', label: 'History' },
  { path: '/breakdown', label: 'Breakdown' },
  { path: '/members', label: 'Members' },
  { path: '/cycles', label: 'Cycles', needs: 'cycles' as const },
  { path: '/audit', label: 'Audit trail', needs: 'audit' as const },
  { path: '/keys', label: 'Team keys', needs: 'keys' as const },
  { path: '/webhooks', label: 'Webhooks', needs: 'webhooks' as const },
];

function AccountPicker() {
  const { api, accountId } = useSession();
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setDebounced(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);
  const accounts = useLoad(
    (retry) => load(() => api.GET('/v1/accounts', { params: { query: { search: debounced || undefined, limit: 20 } } }), retry),
    [debounced],
  );
  const location = useLocation();
  const pick = (id: string) => {
    const params = new URLSearchParams(location.params);
    params.set('account', id);
    navigate(location.path, params);
  };
  return (
    <div className="picker">
      <label>
        Account
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Search by id or name" data-testid="account-search" />
      </label>
      {accounts.status === 'error' && <Failure error={accounts.error} onRetry={accounts.reload} />}
      <ul className="account-list" aria-label="Accounts">
        {(accounts.status === 'ok' ? accounts.data.items : accounts.status === 'loading' ? (accounts.data?.items ?? []) : []).map((a) => (
          <li key={a.accountId}>
            <button type="button" onClick={() => pick(a.accountId)} aria-pressed={a.accountId === accountId} data-testid={`pick-${a.accountId}`}>
              <strong>{a.name}</strong> <small>{a.accountId}</small>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Page({ path }: { path: string }) {
  const { api, accountId, me } = useSession();
  const account = useLoad(
    (retry) => load(() => api.GET('/v1/accounts/{accountId}', { params: { path: { accountId: accountId! } } }), retry),
    [accountId],
    accountId !== null,
  );
  if (accountId === null) return <p className="state empty">Pick an account to see its usage.</p>;
  const nav = NAV.find((n) => n.path === path);
  if (!nav)
    return (
      <p className="state empty">
        This page does not exist. <Link to="/">Go to the overview</Link>.
      </p>
    );
  if (nav.needs && !can(me.role, nav.needs))
    return (
      <div className="state error" role="alert">
        <strong>Not allowed</strong>
        <p>
          The {me.role} role cannot see the {nav.label.toLowerCase()}. Ask an admin of the account for a key that can.
        </p>
      </div>
    );
  if (account.status === 'error') return <Failure error={account.error} onRetry={account.reload} />;
  if (account.status === 'loading' && !account.data) return <Loading what="the account" retrying={account.retrying} />;
  const data = (account.status === 'ok' ? account.data : account.data) as AccountView;
  switch (path) {
    case '/':
      return <OverviewPage account={data} />;
    case '/history':
      return <HistoryPage account={data} />;
    case '/breakdown':
      return <BreakdownPage account={data} />;
    case '/members':
      return (
        <Suspense fallback={<Loading what="the page" />}>
          {/* A new account starts the page afresh: no member pages or editor of the previous one. */}
          <MembersPage key={data.accountId} account={data} />
        </Suspense>
      );
    case '/cycles':
      return <CyclesPage account={data} />;
    case '/audit':
      return <AuditPage account={data} />;
    case '/webhooks':
      return (
        <Suspense fallback={<Loading what="the webhooks page" />}>
          <WebhooksPage />
        </Suspense>
      );
    default:
      return <KeysPage />;
  }
}

function Shell() {
  const session = useSession();
  const { me, accountId, accountQuery, signOut } = session;
  const location = useLocation();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">credit-ledger</span>
        <nav aria-label="Pages">
          <ul>
            {NAV.filter((n) => !n.needs || can(me.role, n.needs)).map((n) => (
              <li key={n.path}>
                <Link to={n.path} params={accountQuery} current={location.path === n.path}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who" data-testid="who">
          <span>
            {me.role}
            {me.userId ? ` · ${me.userId}` : ''}
            {accountId ? ` · ${accountId}` : ''}
          </span>
          <button type="button" onClick={signOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <div className={can(me.role, 'pickAccount') ? 'layout with-picker' : 'layout'}>
        {can(me.role, 'pickAccount') && <AccountPicker />}
        {/* data-location: the address the page was last drawn for, so a test can tell a drawn page from one about to redraw. */}
        <main id="main" tabIndex={-1} data-location={`${location.path}${location.search}`}>
          <Page path={location.path} />
        </main>
      </div>
    </>
  );
}

/** The console: sign-in, then the pages the key's role allows. */
export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [me, setMe] = useState<Me | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const location = useLocation();

  const signOut = useCallback((why?: string) => {
    forgetKey();
    setKey(null);
    setMe(null);
    setMessage(why ?? null);
  }, []);
  useEffect(() => setUnauthorizedHandler(() => signOut('Your key was refused (unknown or revoked). Sign in again.')), [signOut]);

  const check = useCallback(
    (candidate: string, remember: boolean) => {
      setChecking(true);
      load(() => apiFor(candidate).GET('/v1/me'))
        .then((answer) => {
          if (answer.role === 'service') {
            signOut('Service keys are for applications: sign in with a member, analyst or admin key.');
            return;
          }
          if (remember) storeKey(candidate);
          setKey(candidate);
          setMe(answer as Me);
          setMessage(null);
        })
        .catch((e: unknown) => signOut(e instanceof LedgerApiError && e.status === 401 ? 'That key is not valid (unknown or revoked).' : explain(e).detail))
        .finally(() => setChecking(false));
    },
    [signOut],
  );
  useEffect(() => {
    if (key && !me) check(key, false);
    // Only on start: a stored key is checked once.
  }, []);

  // Keyed on the picked account, not on the whole query: a filter change keeps the same session
  // (and client), so the pages' memoised parts are not redrawn for it.
  const picked = location.params.get('account');
  const accountQuery = useMemo(() => (me?.role === 'superuser' && picked ? new URLSearchParams({ account: picked }) : new URLSearchParams()), [picked, me]);
  const session: Session | null = useMemo(
    () =>
      key && me
        ? { api: apiFor(key), me, accountId: me.role === 'superuser' ? accountQuery.get('account') : me.accountId, accountQuery, signOut: () => signOut() }
        : null,
    [key, me, accountQuery, signOut],
  );
  if (!session) {
    if (key && !me && checking) return <Loading what="your session" />;
    return <SignInPage onSignIn={(k) => check(k, true)} message={message} busy={checking} />;
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}
