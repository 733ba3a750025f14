import { useEffect, useRef, useState } from 'react';
import { LedgerApiError } from './api';

export type LoadState<T> =
  | { readonly status: 'loading'; readonly retrying: number; readonly data?: T }
  | { readonly status: 'ok'; readonly data: T }
  | { readonly status: 'error'; readonly error: unknown };

/** Told when a key is refused (401): the app returns to sign-in. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

/**
 * Loads data for the inputs in `deps`: the latest inputs win (an older answer arriving late is
 * dropped), the previous data stays visible while the next loads, 401 signs out. A render with new
 * inputs already reports `loading`, so the screen never shows the last inputs' data as settled
 * for one frame before the new load starts.
 */
export function useLoad<T>(
  run: (onRetry: (attempt: number) => void) => Promise<T>,
  deps: readonly unknown[],
  enabled = true,
): LoadState<T> & { reload: () => void } {
  const [state, setState] = useState<LoadState<T>>({ status: 'loading', retrying: 0 });
  const [nonce, setNonce] = useState(0);
  const inputs = [...deps, nonce, enabled];
  const generation = useRef(0);
  const loadedFor = useRef<readonly unknown[]>(inputs);
  useEffect(() => {
    if (!enabled) return;
    const mine = ++generation.current;
    loadedFor.current = inputs;
    setState((previous) => ({ status: 'loading', retrying: 0, data: previous.status === 'ok' ? previous.data : undefined }));
    run((attempt) => {
      if (mine === generation.current) setState((previous) => ({ ...previous, status: 'loading', retrying: attempt }) as LoadState<T>);
    }).then(
      (data) => {
        if (mine === generation.current) setState({ status: 'ok', data });
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        if (error instanceof LedgerApiError && error.status === 401) onUnauthorized();
        setState({ status: 'error', error });
      },
    );
  }, inputs);
  const reload = () => setNonce((n) => n + 1);
  if (enabled && state.status !== 'loading' && !sameInputs(loadedFor.current, inputs))
    return { status: 'loading', retrying: 0, data: state.status === 'ok' ? state.data : undefined, reload };
  return { ...state, reload };
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}
