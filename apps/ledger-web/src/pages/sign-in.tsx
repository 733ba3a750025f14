import { useState, type FormEvent } from 'react';

/** Sign-in with an API key; the key is checked with GET /v1/me before it is kept. */
export function SignInPage({ onSignIn, message, busy }: { onSignIn: (key: string) => void; message: string | null; busy: boolean }) {
  const [key, setKey] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (key.trim()) onSignIn(key.trim());
  };
  return (
    <main className="sign-in" id="main">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">credit-ledger console</h1>
        <p>Sign in with an API key. It stays in this tab only and is forgotten when you sign out or close the tab.</p>
        {message && (
          <p className="state error" role="alert">
            {message}
          </p>
        )}
        <label>
          API key
          <input type="password" autoComplete="off" spellCheck={false} value={key} onChange={(e) => setKey(e.target.value)} required data-testid="api-key" />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="sign-in">
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
