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
 * dropped), the previous data stays visible while the next loads, 401 signs out.
 */
export function useLoad<T>(
  run: (onRetry: (attempt: number) => void) => Promise<T>,
  deps: readonly unknown[],
  enabled = true,
): LoadState<T> & { reload: () => void } {
  const [state, setState] = useState<LoadState<T>>({ status: 'loading', retrying: 0 });
  const [nonce, setNonce] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    if (!enabled) return;
    const mine = ++generation.current;
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
  }, [...deps, nonce, enabled]);
  return { ...state, reload: () => setNonce((n) => n + 1) };
}
