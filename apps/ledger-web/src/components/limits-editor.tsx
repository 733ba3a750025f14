import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { formatCredits } from '../format';
import { draftsFrom, editFailure, type EditFailure, type LimitDrafts, limitsBody } from '../members';

/**
 * Edits limits per credit type (a member's own, or the account's defaults). Only what changes is
 * sent; removing a limit is a tick of its own, never an empty box. The API's refusals are shown
 * next to the field they name (400 details) and above the buttons (the message and its code).
 */
export function LimitsEditor({
  title,
  creditTypes,
  limits,
  fallback,
  onSave,
  onClose,
}: {
  title: string;
  creditTypes: readonly string[];
  /** The limits set now (a type not listed has none of its own). */
  limits: Readonly<Record<string, number>>;
  /** What applies to a type without a limit of its own, for people ("account default: 5,000"). */
  fallback: (creditType: string) => string;
  onSave: (body: Record<string, number | null>) => Promise<void>;
  onClose: () => void;
}) {
  const [drafts, setDrafts] = useState<LimitDrafts>(() => draftsFrom(limits, creditTypes));
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<EditFailure | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const change = (creditType: string, next: Partial<LimitDrafts[string]>) => setDrafts((d) => ({ ...d, [creditType]: { ...d[creditType], ...next } }));
  const save = (e: FormEvent) => {
    e.preventDefault();
    const { body, problems: found } = limitsBody(limits, drafts);
    setProblems(found);
    setFailure(null);
    if (Object.keys(found).length > 0) {
      setFailure({ byCreditType: {}, message: 'Some limits need attention: see the fields marked below.' });
      return;
    }
    if (Object.keys(body).length === 0) {
      setFailure({ byCreditType: {}, message: 'Nothing to save: no limit was changed.' });
      return;
    }
    setBusy(true);
    onSave(body)
      .catch((error: unknown) => setFailure(editFailure(error)))
      .finally(() => setBusy(false));
  };
  const errorOf = (t: string) => problems[t] ?? failure?.byCreditType[t];

  return (
    <form className="limits-editor" onSubmit={save} noValidate aria-labelledby={`${id}-title`} data-testid="limits-editor">
      <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <p className="hint">Credits per cycle, for each credit type. Leave a box as it is to keep its limit.</p>
      <div className="limit-fields">
        {creditTypes.map((t) => {
          const has = Object.hasOwn(limits, t);
          const error = errorOf(t);
          const draft = drafts[t];
          return (
            <div key={t} className={error ? 'limit-field invalid' : 'limit-field'} data-testid={`limit-${t}`}>
              <label htmlFor={`${id}-${t}`}>{t}</label>
              <input
                id={`${id}-${t}`}
                type="text"
                inputMode="numeric"
                autoComplete="off"
                value={draft.value}
                disabled={draft.remove}
                onChange={(e) => change(t, { value: e.target.value })}
                aria-invalid={error ? true : undefined}
                aria-describedby={`${id}-${t}-hint${error ? ` ${id}-${t}-error` : ''}`}
                data-testid={`limit-input-${t}`}
              />
              <small id={`${id}-${t}-hint`} className="hint">
                {has ? `now ${formatCredits(limits[t])}` : `none of its own (${fallback(t)})`}
              </small>
              {has && (
                <label className="toggle">
                  <input type="checkbox" checked={draft.remove} onChange={(e) => change(t, { remove: e.target.checked })} data-testid={`limit-remove-${t}`} />
                  Remove the limit
                </label>
              )}
              {error && (
                <p id={`${id}-${t}-error`} className="field-error" data-testid={`limit-error-${t}`}>
                  {error}
                </p>
              )}
            </div>
          );
        })}
      </div>
      {failure && (
        <div className="state error" role="alert" data-testid="limits-failure">
          <p>{failure.message}</p>
        </div>
      )}
      <div className="form-buttons">
        <button type="submit" className="primary" disabled={busy} data-testid="limits-save">
          Save limits
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
