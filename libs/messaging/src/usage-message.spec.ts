import { DeadLetterCode, MAX_USAGE_MESSAGE_BYTES, parseUsageMessage, usageMessageValue } from './usage-message';

const key = (s: string) => Buffer.from(s);
const value = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const consume = { consumptionId: 'c-1', userId: 'ana', creditType: 'email', feature: 'people_search', action: 'email_reveal', credits: 1 };

describe('usage message contract (credit.usage.v1)', () => {
  it('turns a consume message into the same command data as the HTTP body', () => {
    const parsed = parseUsageMessage(key('acme'), Buffer.from(usageMessageValue('consume', 'acme', { ...consume, occurredAt: '2026-11-10T10:00:00+01:00' })));
    expect(parsed).toEqual({
      command: {
        type: 'consume',
        accountId: 'acme',
        commandId: 'c-1',
        data: { ...consume, description: undefined, dataRequested: undefined, dataKey: undefined, occurredAt: '2026-11-10T09:00:00.000Z' },
      },
    });
  });

  it('parses refunds and grants with their client ids', () => {
    const refund = parseUsageMessage(
      key('acme'),
      value({ type: 'refund', accountId: 'acme', data: { refundId: 'r-1', consumptionId: 'c-1', reason: 'bounced' } }),
    );
    expect(refund).toMatchObject({
      command: { type: 'refund', commandId: 'r-1', data: { refundId: 'r-1', consumptionId: 'c-1', credits: undefined, reason: 'bounced' } },
    });
    const grant = parseUsageMessage(
      key('acme'),
      value({
        type: 'grant',
        accountId: 'acme',
        data: { grantId: 'g-1', creditType: 'email', credits: 5, reason: 'promo', expiresAt: '2099-01-01T00:00:00Z' },
      }),
    );
    expect(grant).toMatchObject({ command: { type: 'grant', commandId: 'g-1', data: { credits: 5, expiresAt: '2099-01-01T00:00:00.000Z' } } });
  });

  it.each([
    ['no value', null, DeadLetterCode.InvalidJson],
    ['not JSON', '{"type": "consume"', DeadLetterCode.InvalidJson],
    ['an array', '[]', DeadLetterCode.ValidationFailed],
    ['an unknown command type', { type: 'open', accountId: 'acme', data: {} }, DeadLetterCode.ValidationFailed],
    ['an unknown envelope field', { type: 'consume', accountId: 'acme', data: consume, extra: 1 }, DeadLetterCode.ValidationFailed],
    ['a bad account id', { type: 'consume', accountId: 'a c m e', data: consume }, DeadLetterCode.ValidationFailed],
    ['credits 0', { type: 'consume', accountId: 'acme', data: { ...consume, credits: 0 } }, DeadLetterCode.ValidationFailed],
    ['credits as a string', { type: 'consume', accountId: 'acme', data: { ...consume, credits: '1' } }, DeadLetterCode.ValidationFailed],
    ['an unknown body field', { type: 'consume', accountId: 'acme', data: { ...consume, price: 3 } }, DeadLetterCode.ValidationFailed],
    ['a refund without reason', { type: 'refund', accountId: 'acme', data: { refundId: 'r', consumptionId: 'c' } }, DeadLetterCode.ValidationFailed],
  ])('sets aside %s', (_, v, code) => {
    const parsed = parseUsageMessage(key('acme'), v === null ? null : value(v));
    expect(parsed).toMatchObject({ unprocessable: { code } });
  });

  it('names the failing field of the body', () => {
    const parsed = parseUsageMessage(key('acme'), value({ type: 'consume', accountId: 'acme', data: { ...consume, credits: 0 } }));
    expect('unprocessable' in parsed && parsed.unprocessable.message).toContain('data.credits');
  });

  it('refuses a key that is not the account (it would break the per-account order)', () => {
    expect(parseUsageMessage(key('beta'), value({ type: 'consume', accountId: 'acme', data: consume }))).toMatchObject({
      unprocessable: { code: DeadLetterCode.KeyMismatch },
    });
    expect(parseUsageMessage(null, value({ type: 'consume', accountId: 'acme', data: consume }))).toMatchObject({
      unprocessable: { code: DeadLetterCode.KeyMismatch },
    });
  });

  it(`refuses messages over ${MAX_USAGE_MESSAGE_BYTES} bytes before parsing them`, () => {
    const big = Buffer.alloc(MAX_USAGE_MESSAGE_BYTES + 1, 0x20);
    expect(parseUsageMessage(key('acme'), big)).toMatchObject({ unprocessable: { code: DeadLetterCode.MessageTooLarge } });
    const description = 'x'.repeat(400);
    expect(parseUsageMessage(key('acme'), value({ type: 'consume', accountId: 'acme', data: { ...consume, description } }))).toHaveProperty('command');
  });
});
