/** How one command (or one batch item) ended once its attempt was final. */
export interface CommandOutcome {
  /** The domain command type (ConsumeCredits, GrantCredits, …). */
  readonly type: string;
  readonly outcome: 'accepted' | 'duplicate' | 'refused';
  /** The refusal's stable code (outcome refused). */
  readonly code?: string;
}

/** What the command executor reports (metrics); framework-free, every call cheap and non-throwing. */
export interface CommandObserver {
  /** Outcomes of an attempt that counted: its events are stored, or it was refused (nothing stored). */
  decided(outcomes: readonly CommandOutcome[]): void;
  /** An append met an expected-revision conflict. */
  conflicted(): void;
  /** The command is decided again after a conflict. */
  retried(): void;
  /** Too many conflicts: the command is answered 503. */
  retriesExhausted(): void;
}
