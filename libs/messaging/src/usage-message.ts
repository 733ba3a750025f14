import { CaptureReservationData, CLIENT_ID_PATTERN, ConsumeCreditsData, ReserveCreditsData } from '@credit-ledger/domain';
import {
  CaptureReservationMessageDto,
  ConsumeCreditsDto,
  GrantCreditsDto,
  RefundCreditsDto,
  ReleaseReservationMessageDto,
  ReserveCreditsDto,
  toConsumeData,
  toGrantData,
  toRefundData,
  toReserveData,
} from '@credit-ledger/ledger';
import { validatePlain } from '@credit-ledger/http';

/**
 * The usage topic's message contract (`credit.usage.v1`): one JSON object per message,
 *
 *   key:   the accountId (one account's commands stay ordered on one partition)
 *   value: {"type": "consume" | "refund" | "grant" | "reserve" | "capture" | "release", "accountId": "...", "data": <the HTTP body>}
 *
 * `data` is exactly the body of `POST /v1/accounts/{id}/consumptions` (or `/refunds`, `/grants`,
 * `/reservations`), validated by the same DTO classes, so a client id (consumptionId, refundId,
 * grantId, reservationId) is the idempotency key on both paths. `capture` and `release` carry the
 * body of `…/reservations/{reservationId}/capture` (`/release`) plus that `reservationId`.
 * Parsing is pure: no I/O, no clock.
 */
export const USAGE_COMMAND_TYPES = ['consume', 'refund', 'grant', 'reserve', 'capture', 'release'] as const;
export type UsageCommandType = (typeof USAGE_COMMAND_TYPES)[number];

/** Largest usage message accepted (a consumption with a 500-character description is ~1 KiB). */
export const MAX_USAGE_MESSAGE_BYTES = 64 * 1024;

const ENVELOPE_FIELDS = new Set(['type', 'accountId', 'data']);

export type RefundData = ReturnType<typeof toRefundData>;
export type GrantData = ReturnType<typeof toGrantData>;

export type UsageCommand =
  | { readonly type: 'consume'; readonly accountId: string; readonly commandId: string; readonly data: ConsumeCreditsData }
  | { readonly type: 'refund'; readonly accountId: string; readonly commandId: string; readonly data: RefundData }
  | { readonly type: 'grant'; readonly accountId: string; readonly commandId: string; readonly data: GrantData }
  | { readonly type: 'reserve'; readonly accountId: string; readonly commandId: string; readonly data: ReserveCreditsData }
  | { readonly type: 'capture'; readonly accountId: string; readonly commandId: string; readonly data: CaptureReservationData }
  | {
      readonly type: 'release';
      readonly accountId: string;
      readonly commandId: string;
      readonly data: { readonly reservationId: string; readonly reason?: string };
    };

/** Why a message is dead-lettered: codes are stable (the DLQ's `error.code` header). */
export const DeadLetterCode = {
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  InvalidJson: 'INVALID_JSON',
  ValidationFailed: 'VALIDATION_FAILED',
  KeyMismatch: 'KEY_MISMATCH',
} as const;
export type DeadLetterCode = (typeof DeadLetterCode)[keyof typeof DeadLetterCode];

export interface Unprocessable {
  readonly code: DeadLetterCode;
  readonly message: string;
}

export type ParsedUsageMessage = { readonly command: UsageCommand } | { readonly unprocessable: Unprocessable };

function invalid(problems: readonly { field: string; reason: string }[]): ParsedUsageMessage {
  const text = problems
    .slice(0, 5)
    .map((p) => `${p.field || 'value'}: ${p.reason}`)
    .join('; ');
  return { unprocessable: { code: DeadLetterCode.ValidationFailed, message: `message validation failed: ${text}` } };
}

export function parseUsageMessage(key: Buffer | null, value: Buffer | null): ParsedUsageMessage {
  if (value === null || value.length === 0) return { unprocessable: { code: DeadLetterCode.InvalidJson, message: 'the message has no value' } };
  if (value.length > MAX_USAGE_MESSAGE_BYTES) {
    return { unprocessable: { code: DeadLetterCode.MessageTooLarge, message: `the message is ${value.length} bytes, more than ${MAX_USAGE_MESSAGE_BYTES}` } };
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { unprocessable: { code: DeadLetterCode.InvalidJson, message: `the value is not JSON: ${(e as Error).message}` } };
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    return invalid([{ field: 'value', reason: 'must be a JSON object {type, accountId, data}' }]);
  }
  const e = envelope as Record<string, unknown>;
  const problems: { field: string; reason: string }[] = [];
  for (const field of Object.keys(e)) if (!ENVELOPE_FIELDS.has(field)) problems.push({ field, reason: 'is not a field of a usage message' });
  if (!USAGE_COMMAND_TYPES.includes(e.type as UsageCommandType)) problems.push({ field: 'type', reason: `must be one of ${USAGE_COMMAND_TYPES.join(', ')}` });
  if (typeof e.accountId !== 'string' || !CLIENT_ID_PATTERN.test(e.accountId)) problems.push({ field: 'accountId', reason: `must match ${CLIENT_ID_PATTERN}` });
  if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data))
    problems.push({ field: 'data', reason: 'must be a JSON object (the HTTP body of the command)' });
  if (problems.length > 0) return invalid(problems);

  const accountId = e.accountId as string;
  // The key picks the partition: a key that is not the account would break the per-account order.
  const keyText = key?.toString('utf8');
  if (keyText !== accountId) {
    return {
      unprocessable: {
        code: DeadLetterCode.KeyMismatch,
        message: `the message key must be the accountId "${accountId}" (got ${keyText === undefined ? 'no key' : `"${keyText}"`})`,
      },
    };
  }

  const prefixed = (ps: readonly { field: string; reason: string }[]) => ps.map((p) => ({ field: p.field ? `data.${p.field}` : 'data', reason: p.reason }));
  const body = e.data as object;
  switch (e.type as UsageCommandType) {
    case 'consume': {
      const v = validatePlain(ConsumeCreditsDto, body);
      if ('problems' in v) return invalid(prefixed(v.problems));
      return { command: { type: 'consume', accountId, commandId: v.value.consumptionId, data: toConsumeData(v.value) } };
    }
    case 'refund': {
      const v = validatePlain(RefundCreditsDto, body);
      if ('problems' in v) return invalid(prefixed(v.problems));
      return { command: { type: 'refund', accountId, commandId: v.value.refundId, data: toRefundData(v.value) } };
    }
    case 'grant': {
      const v = validatePlain(GrantCreditsDto, body);
      if ('problems' in v) return invalid(prefixed(v.problems));
      return { command: { type: 'grant', accountId, commandId: v.value.grantId, data: toGrantData(v.value) } };
    }
    default:
      return parseReservationMessage(e.type as 'reserve' | 'capture' | 'release', accountId, body, (ps) => invalid(prefixed(ps)));
  }
}

/** Builds a usage message's value (producers in tests, the benchmark and the README use it). */
export function usageMessageValue(type: UsageCommandType, accountId: string, data: object): string {
  return JSON.stringify({ type, accountId, data });
}

type Problems = readonly { field: string; reason: string }[];

/** The reservation messages: reserve (the HTTP body), capture and release (their body plus reservationId). */
function parseReservationMessage(
  type: 'reserve' | 'capture' | 'release',
  accountId: string,
  body: object,
  invalid: (ps: Problems) => ParsedUsageMessage,
): ParsedUsageMessage {
  switch (type) {
    case 'reserve': {
      const v = validatePlain(ReserveCreditsDto, body);
      if ('problems' in v) return invalid(v.problems);
      return { command: { type, accountId, commandId: v.value.reservationId, data: toReserveData(v.value) } };
    }
    case 'capture': {
      const v = validatePlain(CaptureReservationMessageDto, body);
      if ('problems' in v) return invalid(v.problems);
      const { reservationId, consumptionId, credits, description, dataRequested } = v.value;
      return {
        command: {
          type,
          accountId,
          commandId: `${reservationId}/${consumptionId}`,
          data: { reservationId, consumptionId, credits, description, dataRequested },
        },
      };
    }
    case 'release': {
      const v = validatePlain(ReleaseReservationMessageDto, body);
      if ('problems' in v) return invalid(v.problems);
      return { command: { type, accountId, commandId: v.value.reservationId, data: { reservationId: v.value.reservationId, reason: v.value.reason } } };
    }
    default: {
      const unknown: never = type;
      throw new Error(`unknown reservation message ${String(unknown)}`);
    }
  }
}
