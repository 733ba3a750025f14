import type { ReactNode } from 'react';
import { explain } from '../api';
import type { LoadState } from '../use-load';

export function Loading({ what, retrying = 0 }: { what: string; retrying?: number }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      {retrying > 0 ? `The ledger is catching up; retrying (${retrying})…` : `Loading ${what}…`}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function Failure({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = explain(error);
  return (
    <div className="state error" role="alert">
      <strong>{title}</strong>
      <p>{detail}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Renders a load: loading (keeping the last data visible when there is some), failure, or the data. */
export function Loaded<T>({ state, what, children }: { state: LoadState<T> & { reload: () => void }; what: string; children: (data: T) => ReactNode }) {
  if (state.status === 'error') return <Failure error={state.error} onRetry={state.reload} />;
  if (state.status === 'loading' && state.data === undefined) return <Loading what={what} retrying={state.retrying} />;
  // The same element whether reloading or loaded: the content (a chart, a virtual table) stays
  // mounted across a filter change and only updates.
  const reloading = state.status === 'loading';
  return (
    <div aria-busy={reloading ? 'true' : undefined} className={reloading ? 'stale' : undefined}>
      {children(state.data as T)}
    </div>
  );
}

export function Problems({ problems }: { problems: readonly string[] }) {
  if (problems.length === 0) return null;
  return (
    <div className="state warning" role="alert">
      <strong>Part of this link was not understood</strong>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}
