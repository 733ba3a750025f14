import { Plan } from './plan';

/** Every command carries `at`: the instant the ledger decides it (recorded time), supplied by the caller. */
interface CommandOf<T extends string, D> {
  readonly type: T;
  readonly data: D;
  readonly at: string;
}

export type OpenAccount = CommandOf<'OpenAccount', { readonly accountId: string; readonly name: string; readonly plan: Plan }>;

export interface ConsumeCreditsData {
  readonly consumptionId: string;
  readonly userId: string;
  readonly creditType: string;
  readonly feature: string;
  readonly action: string;
  readonly credits: number;
  readonly description?: string;
  readonly dataRequested?: string;
  readonly dataKey?: string;
  /** Business time; defaults to `at`. */
  readonly occurredAt?: string;
}
export type ConsumeCredits = CommandOf<'ConsumeCredits', ConsumeCreditsData>;

export type RefundCredits = CommandOf<
  'RefundCredits',
  { readonly refundId: string; readonly consumptionId: string; readonly credits?: number; readonly reason: string }
>;

export type GrantCredits = CommandOf<
  'GrantCredits',
  {
    readonly grantId: string;
    readonly creditType: string;
    readonly credits: number;
    readonly reason: string;
    readonly expiresAt?: string;
  }
>;

export type ResetCycle = CommandOf<
  'ResetCycle',
  { readonly cycleId: string; readonly allocations?: Readonly<Record<string, number>> }
>;

export type LedgerCommand = OpenAccount | ConsumeCredits | RefundCredits | GrantCredits | ResetCycle;
