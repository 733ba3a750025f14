import { useEffect, useState } from 'react';

/** The console's pages: paths the server answers with the console (see apps/ledger-api/src/console.ts). */
export const PAGES = ['/', '/history', '/breakdown', '/members', '/cycles', '/audit', '/keys', '/webhooks'] as const;
export type PagePath = (typeof PAGES)[number];

export interface Location {
  readonly path: string;
  readonly params: URLSearchParams;
  /** The query string as the address bar has it, with its `?` (empty without one). */
  readonly search: string;
}

const listeners = new Set<() => void>();
function current(): Location {
  return { path: window.location.pathname, params: new URLSearchParams(window.location.search), search: window.location.search };
}

/** Goes to a path and query (a new history entry, or replacing the current one). */
export function navigate(path: string, params?: URLSearchParams, options: { replace?: boolean } = {}): void {
  const query = params?.toString();
  const url = `${path}${query ? `?${query}` : ''}`;
  if (url === `${window.location.pathname}${window.location.search}`) return;
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const listener of listeners) listener();
}

/** The current location, updated on navigate() and on Back/Forward. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}
