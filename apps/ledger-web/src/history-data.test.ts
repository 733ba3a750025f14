import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS, type ResolvedRange } from './filters';
import { historyQuery, relatedQuery } from './history-data';

const range = { from: '2026-11-01T04:00:00.000Z', to: '2026-12-01T05:00:00.000Z', bucket: 'day' } as ResolvedRange;

describe('history requests', () => {
  it('the table asks for the range and the filters; refunds only when shown', () => {
    expect(historyQuery({ ...DEFAULT_FILTERS, feature: 'exports' }, range, undefined)).toMatchObject({
      from: range.from,
      to: range.to,
      feature: 'exports',
      includeRefunds: 'false',
    });
  });

  it('related movements look at all time with refunds; a consumption wins over a dataKey (its refunds, not an intersection)', () => {
    const both = historyQuery({ ...DEFAULT_FILTERS, consumptionId: 'nov-97', dataKey: 'contact_9' }, range, undefined);
    expect(both).toMatchObject({ consumptionId: 'nov-97', dataKey: undefined, includeRefunds: 'true' });
    expect(both).not.toHaveProperty('from');
    expect(historyQuery({ ...DEFAULT_FILTERS, dataKey: 'contact_9' }, range, undefined)).toMatchObject({ dataKey: 'contact_9', consumptionId: undefined });
  });

  it('each related view asks for one thing only, whatever the other filters, a member’s own rows', () => {
    expect(relatedQuery({ consumptionId: 'nov-97' }, undefined)).toEqual({ consumptionId: 'nov-97', userId: undefined, includeRefunds: 'true' });
    expect(relatedQuery({ dataKey: 'contact_9' }, 'ana@acme.test')).toEqual({ dataKey: 'contact_9', userId: 'ana@acme.test', includeRefunds: 'true' });
  });
});
