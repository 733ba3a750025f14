import { describe, expect, it } from 'vitest';
import { LedgerApiError } from './api';
import { budgetFigures, draftsFrom, editFailure, limitsBody, parseMembersParams } from './members';

describe('a member’s budget figures', () => {
  it('counts used and held credits against the limit, with the level of the meter', () => {
    expect(budgetFigures({ used: 30, reserved: 10, limit: 100, limitSource: 'member', remaining: 60 })).toEqual({
      spent: 40,
      ratio: 0.4,
      level: 'ok',
      source: 'own limit',
    });
    expect(budgetFigures({ used: 75, reserved: 10, limit: 100, limitSource: 'default', remaining: 15 })).toMatchObject({
      level: 'warning',
      source: 'account default',
    });
    expect(budgetFigures({ used: 100, reserved: 0, limit: 100, limitSource: 'member', remaining: 0 })).toMatchObject({ ratio: 1, level: 'exhausted' });
    // Over the limit (the limit was lowered after use): the meter stays full.
    expect(budgetFigures({ used: 150, reserved: 0, limit: 100, limitSource: 'member', remaining: 0 }).ratio).toBe(1);
    expect(budgetFigures({ used: 0, reserved: 0, limit: 0, limitSource: 'member', remaining: 0 })).toMatchObject({ ratio: 1, level: 'exhausted' });
  });

  it('has no meter without a limit', () => {
    expect(budgetFigures({ used: 12, reserved: 3, limit: null, limitSource: null, remaining: null })).toEqual({
      spent: 15,
      ratio: null,
      level: 'ok',
      source: 'no limit',
    });
  });
});

describe('the limits editor’s body', () => {
  const types = ['email', 'mobile', 'export'];

  it('starts from the limits set now', () => {
    expect(draftsFrom({ email: 50 }, types)).toEqual({
      email: { value: '50', remove: false },
      mobile: { value: '', remove: false },
      export: { value: '', remove: false },
    });
  });

  it('sends only what changes: a new number, or null for an explicit removal', () => {
    const drafts = { ...draftsFrom({ email: 50, mobile: 20 }, types), email: { value: '80', remove: false }, mobile: { value: '20', remove: true } };
    expect(limitsBody({ email: 50, mobile: 20 }, drafts)).toEqual({ body: { email: 80, mobile: null }, problems: {} });
    expect(limitsBody({ email: 50 }, draftsFrom({ email: 50 }, types))).toEqual({ body: {}, problems: {} });
    expect(limitsBody({}, { ...draftsFrom({}, types), export: { value: ' 7 ', remove: false } })).toEqual({ body: { export: 7 }, problems: {} });
    // Ticking "remove" where there is no limit of its own removes nothing.
    expect(limitsBody({}, { ...draftsFrom({}, types), email: { value: '', remove: true } }).body).toEqual({});
  });

  it('never reads an emptied box as a removal', () => {
    const drafts = { ...draftsFrom({ email: 50 }, types), email: { value: '', remove: false } };
    expect(limitsBody({ email: 50 }, drafts)).toEqual({ body: {}, problems: { email: expect.stringContaining('Remove the limit') } });
  });

  it('leaves the judgement of a number to the API (sent as typed)', () => {
    expect(limitsBody({}, { email: { value: '-1', remove: false } }).body).toEqual({ email: -1 });
    expect(limitsBody({}, { email: { value: '1.5', remove: false } }).body).toEqual({ email: 1.5 });
    expect(limitsBody({}, { email: { value: 'lots', remove: false } }).body).toEqual({ email: 'lots' });
  });
});

describe('the API’s refusals of an edit', () => {
  it('puts each 400 field next to its credit type', () => {
    const error = new LedgerApiError(400, 'VALIDATION_FAILED', 'request validation failed', undefined, [
      { field: 'creditTypes.email', reason: 'must be an integer from 0 to 1000000000000, or null' },
      { field: 'userId', reason: 'must not contain spaces' },
    ]);
    expect(editFailure(error)).toEqual({
      byCreditType: { email: 'must be an integer from 0 to 1000000000000, or null' },
      message: 'Not valid: request validation failed — userId: must not contain spaces',
    });
  });

  it('names a 409’s code', () => {
    const error = new LedgerApiError(409, 'UNKNOWN_CREDIT_TYPE', 'sms is not a credit type of the plan', undefined, {});
    expect(editFailure(error)).toEqual({ byCreditType: {}, message: 'Refused (UNKNOWN_CREDIT_TYPE): sms is not a credit type of the plan' });
  });
});

describe('the Members page’s URL', () => {
  it('reads one member, and explains what it ignores', () => {
    expect(parseMembersParams(new URLSearchParams('user=ana%40acme.test&account=acme'))).toEqual({ user: 'ana@acme.test', problems: [] });
    expect(parseMembersParams(new URLSearchParams(''))).toEqual({ problems: [] });
    const bad = parseMembersParams(new URLSearchParams('user=has%20space&sort=x'));
    expect(bad.user).toBeUndefined();
    expect(bad.problems).toEqual(['“sort” is not a filter of this page; it was ignored.', expect.stringContaining('“user” is not a team member id')]);
  });
});
