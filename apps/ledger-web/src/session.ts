/**
 * Where the signed-in API key lives: this tab's sessionStorage (gone when the tab closes, never
 * shared with other tabs, never in localStorage, a URL or a log). docs/console.md argues the choice.
 */
const KEY = 'credit-ledger.apiKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // storage unavailable: nothing was kept
  }
}
