import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { CONSOLE_ACCOUNT, CONSOLE_USERS } from '../../bench/console-seed';
import { ConsoleBrowser, CONSOLE_ARTIFACTS, DESKTOP, PHONE, pageSettled, SignInOptions, updateDocImages } from '../support/console-browser';
import { ConsoleServer, startConsoleServer } from '../support/console-server';

/**
 * The web console in real Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
 * a real server with seeded usage: sign-in per role, filters against the API's own figures, the
 * graph, CSV export, frozen columns, member isolation, 10,000 rows, keys, verify, accessibility
 * (axe-core) and screenshots of every page (light and dark, desktop and phone).
 */
const ROWS = 10_400;

jest.setTimeout(180_000);

// The functions passed to page.evaluate/waitForFunction run in the page, where these exist.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

describe('web console in Chromium', () => {
  let server: ConsoleServer;
  let consoleBrowser: ConsoleBrowser;

  beforeAll(async () => {
    server = await startConsoleServer(ROWS);
    consoleBrowser = await ConsoleBrowser.launch();
  }, 300_000);
  afterAll(async () => {
    await consoleBrowser?.close();
    if (server) await server.stop();
  });

  const signedIn = (key: string, options: SignInOptions = {}): Promise<Page> => consoleBrowser.signedIn(server, key, options);

  const navLabels = async (page: Page) => (await page.locator('header nav a').allTextContents()).map((t) => t.trim());
  const historyUrl = (params: Record<string, string>) => `/history?${new URLSearchParams(params).toString()}`;
  async function tableReady(page: Page) {
    await page.getByTestId('history-scroll').waitFor();
    await page.getByTestId('usage-chart').waitFor();
    await pageSettled(page);
  }

  it('signs in per role and shows only what the role allows; sign-out forgets the key', async () => {
    const member = await signedIn(server.keys.member);
    expect(await navLabels(member)).toEqual(['Overview', 'History', 'Breakdown', 'Members']);
    await member.goto(`${server.url}/history`);
    await tableReady(member);
    expect(await member.getByTestId('filter-user').count()).toBe(0);
    // The key lives in this tab's sessionStorage only: not in localStorage, cookies or the URL.
    expect(await member.evaluate(() => window.localStorage.length)).toBe(0);
    expect(await member.context().cookies()).toEqual([]);
    expect(member.url()).not.toContain(server.keys.member);
    await member.getByTestId('sign-out').click();
    await member.getByTestId('api-key').waitFor();
    expect(await member.evaluate(() => window.sessionStorage.length)).toBe(0);

    const analyst = await signedIn(server.keys.analyst);
    expect(await navLabels(analyst)).toEqual(['Overview', 'History', 'Breakdown', 'Members', 'Cycles', 'Audit trail']);
    const admin = await signedIn(server.keys.admin);
    expect(await navLabels(admin)).toEqual(['Overview', 'History', 'Breakdown', 'Members', 'Cycles', 'Audit trail', 'Team keys', 'Webhooks']);

    const superuser = await signedIn(server.keys.superuser);
    await superuser.getByTestId(`pick-${CONSOLE_ACCOUNT}`).waitFor();
    await superuser.getByTestId('account-search').fill('glob');
    await superuser.getByTestId(`pick-${CONSOLE_ACCOUNT}`).waitFor({ state: 'detached' });
    expect(await superuser.locator('.account-list button').allInnerTexts()).toEqual(['Globex Corporation globex']);
    await superuser.getByTestId('pick-globex').click();
    await superuser.getByRole('heading', { name: 'Globex Corporation' }).waitFor();
    expect(new URL(superuser.url()).searchParams.get('account')).toBe('globex');

    // A refused key returns to sign-in with a message.
    const bad = await consoleBrowser.browser.newPage();
    await bad.goto(server.url);
    await bad.getByTestId('api-key').fill('clk_000000000000_not-a-key');
    await bad.getByTestId('sign-in').click();
    await bad.getByText('That key is not valid').waitFor();
    await bad.close();
  });

  it('overview: Used / Total per credit type with the API’s figures, the cycle, the forecast, thresholds and grants', async () => {
    const page = await signedIn(server.keys.admin);
    const balances = await server.api<{
      balances: { creditType: string; allocated: number; rolledIn: number; granted: number; used: number; refunded: number; remaining: number }[];
    }>(`/v1/accounts/${CONSOLE_ACCOUNT}/balances`);
    for (const b of balances.balances) {
      const card = page.getByTestId(`card-${b.creditType}`);
      const number = (s: string) => Number(s.replace(/[,−]/g, ''));
      expect(number(await card.getByTestId('used').innerText())).toBe(b.used - b.refunded);
      expect(number(await card.getByTestId('total').innerText())).toBe(b.allocated + b.rolledIn + b.granted);
      expect(number(await card.getByTestId('remaining').innerText())).toBe(b.remaining);
      expect(await card.getByTestId('forecast').innerText()).toMatch(/Runs out on|Lasts this cycle|Depleted/);
    }
    expect(await page.getByTestId('cycle').innerText()).toContain('11 days left');
    await page.getByText('q4-research-promo').waitFor();
    expect(await page.getByTestId('card-email').innerText()).toContain('Alerts at 50% used, 90% used');
  });

  it('each filter narrows the rows, with totals equal to the API’s; the URL holds the state and Back works', async () => {
    const page = await signedIn(server.keys.admin, { path: '/history' });
    await page.goto(`${server.url}/history`);
    await tableReady(page);
    const usage = async (query: Record<string, string>) => {
      const { totals } = await server.api<{ totals: { consumed: number; refunded: number; net: number } }>(
        `/v1/accounts/${CONSOLE_ACCOUNT}/usage/by-user?${new URLSearchParams(query)}`,
      );
      return { totals: { consumed: totals.consumed, refunded: totals.refunded, net: totals.net } };
    };
    const shownTotals = async () => ({
      consumed: Number((await page.getByTestId('total-consumed').innerText()).replace(/,/g, '')),
      refunded: Number((await page.getByTestId('total-refunded').innerText()).replace(/,/g, '')),
      net: Number((await page.getByTestId('total-net').innerText()).replace(/,/g, '')),
    });
    // Last 30 days in the account's zone (New York): Oct 22 00:00 EDT to Nov 21 00:00 EST.
    const range = { from: '2026-10-22T04:00:00.000Z', to: '2026-11-21T05:00:00.000Z' };
    expect(await shownTotals()).toEqual((await usage(range)).totals);

    await page.getByTestId('filter-feature').selectOption({ label: 'Waterfall mobile' });
    await page.waitForURL(/action=waterfall_mobile/);
    await tableReady(page);
    expect(new URL(page.url()).searchParams.get('feature')).toBe('waterfall');
    expect(await shownTotals()).toEqual((await usage({ ...range, feature: 'waterfall', action: 'waterfall_mobile' })).totals);
    const features = await page.locator('table.history tbody tr[data-row-id] td:nth-child(3)').allInnerTexts();
    expect(features.length).toBeGreaterThan(0);
    expect(new Set(features)).toEqual(new Set(['Waterfall mobile']));

    await page.getByTestId('filter-user').selectOption(CONSOLE_USERS[2]);
    await page.waitForURL(/user=cat/);
    await tableReady(page);
    expect(await shownTotals()).toEqual((await usage({ ...range, feature: 'waterfall', action: 'waterfall_mobile', userId: CONSOLE_USERS[2] })).totals);
    expect(new Set(await page.locator('table.history tbody tr[data-row-id] td:nth-child(7)').allInnerTexts())).toEqual(new Set([CONSOLE_USERS[2]]));

    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('user'));
    await tableReady(page);
    expect(await shownTotals()).toEqual((await usage({ ...range, feature: 'waterfall', action: 'waterfall_mobile' })).totals);

    await page.goto(`${server.url}${historyUrl({ creditType: 'export', preset: 'cycle' })}`);
    await tableReady(page);
    expect(await shownTotals()).toEqual((await usage({ from: '2026-11-01T04:00:00.000Z', to: '2026-12-01T05:00:00.000Z', creditType: 'export' })).totals);
    expect(new Set(await page.locator('table.history tbody tr[data-row-id] td:nth-child(8)').allInnerTexts())).toEqual(new Set(['export']));

    // A bad value in a shared link: a clear message, the rest of the page still works.
    await page.goto(`${server.url}/history?preset=fortnight&feature=Not%20A%20Feature&refunds=maybe`);
    await page.getByText('Part of this link was not understood').waitFor();
    expect(await page.getByRole('alert').first().innerText()).toContain('“preset” must be one of');
    await tableReady(page);
  });

  it('the refunds toggle adds the refunds, shown negative', async () => {
    const page = await signedIn(server.keys.analyst);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle' })}`);
    await tableReady(page);
    expect(await page.locator('tr.refund-row').count()).toBe(0);
    await page.getByTestId('filter-refunds').check();
    await page.waitForURL(/refunds=1/);
    await tableReady(page);
    // Refunds were recorded at 14:30 on the 20th, the newest movements: first in the table.
    const first = page.locator('tr.refund-row').first();
    await first.waitFor();
    expect(await first.locator('.credits.refund').innerText()).toMatch(/^−\d+ \(refund\)$/);
  });

  it('the graph: stacked series and buckets as the API gives them, switchable to another grouping', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle', groupBy: 'creditType' })}`);
    await tableReady(page);
    const series = await server.api<{ buckets: { label: string }[]; series: { key: string }[] }>(
      `/v1/accounts/${CONSOLE_ACCOUNT}/usage/series?from=2026-11-01T04:00:00.000Z&to=2026-12-01T05:00:00.000Z&bucket=day&groupBy=creditType&timezone=America/New_York`,
    );
    const chart = page.getByTestId('usage-chart');
    expect((await chart.getAttribute('data-series'))!.split('|')).toEqual(series.series.map((s) => s.key));
    expect((await chart.getAttribute('data-buckets'))!.split('|')).toEqual(series.buckets.map((b) => b.label));
    expect(series.buckets).toHaveLength(30);
    await page.getByTestId('group-by').selectOption('user');
    await page.waitForURL(/groupBy=user/);
    await page.waitForFunction(() => document.querySelector('[data-testid="usage-chart"]')?.getAttribute('data-series')?.includes('@'));
    expect((await chart.getAttribute('data-series'))!.split('|').sort()).toEqual([...CONSOLE_USERS].sort());
    // Six months: weekly buckets.
    await page.goto(`${server.url}${historyUrl({ preset: 'custom', from: '2026-06-01', to: '2026-11-20' })}`);
    await tableReady(page);
    const buckets = (await chart.getAttribute('data-buckets'))!.split('|');
    expect(buckets.length).toBeGreaterThanOrEqual(24);
    expect(buckets.length).toBeLessThanOrEqual(26);
  });

  it('the graph: hovering a bucket shows each series’ value, equal to the API’s; the legend hides a series and shows it again', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle', groupBy: 'creditType' })}`);
    await tableReady(page);
    const api = await server.api<{ buckets: { label: string; start: string }[]; series: { key: string; points: { bucket: string; consumed: number }[] }[] }>(
      `/v1/accounts/${CONSOLE_ACCOUNT}/usage/series?from=2026-11-01T04:00:00.000Z&to=2026-12-01T05:00:00.000Z&bucket=day&groupBy=creditType&timezone=America/New_York`,
    );
    const consumedIn = (key: string, label: string) => {
      const index = api.buckets.findIndex((b) => b.label === label);
      const points = api.series.find((s) => s.key === key)!.points;
      const point =
        points.find((p) => p.bucket === label || p.bucket === api.buckets[index].start) ?? (points.length === api.buckets.length ? points[index] : undefined);
      return point?.consumed ?? 0;
    };
    const canvas = page.getByTestId('usage-chart').locator('canvas');
    const box = (await canvas.boundingBox())!;
    const tooltip = page.getByTestId('chart-tooltip');
    /** Hovers a point of the plot (a share of its width) and reads the tooltip: its bucket and each series' credits. */
    const hover = async (share: number) => {
      await page.mouse.move(box.x + 5, box.y + 5);
      await page.mouse.move(box.x + box.width * share, box.y + box.height / 2);
      await tooltip.waitFor();
      const bucket = await page.getByTestId('chart-tooltip-bucket').innerText();
      const values = await tooltip
        .locator('li')
        .evaluateAll((items) => items.map((li) => [li.getAttribute('data-series'), Number(li.getAttribute('data-credits')), li.textContent]));
      return { bucket, values: values as [string, number, string][] };
    };
    const shown = await hover(0.4);
    expect(api.buckets.map((b) => b.label)).toContain(shown.bucket);
    expect(shown.values.map(([key]) => key)).toEqual(api.series.map((s) => s.key));
    for (const [key, credits, text] of shown.values) {
      expect(credits).toBe(consumedIn(key, shown.bucket));
      expect(text).toBe(`${key}: ${credits.toLocaleString('en-US')}`);
    }
    expect(shown.values.some(([, credits]) => credits > 0)).toBe(true);

    // The legend is buttons: pressing one hides its series (from the bars and the tooltip), pressing it again shows it.
    const key = api.series[0].key;
    const legend = page.getByTestId(`legend-${key}`);
    expect(await legend.getAttribute('aria-pressed')).toBe('true');
    await legend.click();
    expect(await legend.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('usage-chart').getAttribute('data-hidden')).toBe(key);
    const without = await hover(0.4);
    expect(without.bucket).toBe(shown.bucket);
    expect(without.values.map(([k]) => k)).toEqual(api.series.map((s) => s.key).filter((k) => k !== key));
    await legend.click();
    expect(await legend.getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('usage-chart').getAttribute('data-hidden')).toBe('');
    expect((await hover(0.4)).values).toEqual(shown.values);
  });

  it('keyboard: Tab reaches the filters, the toggles and a row’s menu; Enter and Space operate them; focus is visible', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle' })}`);
    await tableReady(page);
    await page.evaluate(() => document.activeElement?.blur());
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const style = window.getComputedStyle(el);
        return {
          testId: el.getAttribute('data-testid') as string | null,
          popup: el.getAttribute('aria-haspopup') as string | null,
          role: el.getAttribute('role') as string | null,
          text: (el.textContent ?? '').trim() as string,
          visible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
      });
    type Focused = Awaited<ReturnType<typeof focused>>;
    const tabTo = async (what: string, match: (f: Focused) => boolean) => {
      for (let i = 0; i < 120; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (match(f)) {
          expect({ what, visible: f.visible }).toEqual({ what, visible: true });
          return f;
        }
      }
      throw new Error(`Tab never reached ${what}`);
    };

    // A filter: the arrow keys choose another value, as in any select.
    await page.locator('[data-testid="filter-feature"] option').nth(1).waitFor({ state: 'attached' });
    await tabTo('the feature filter', (f) => f.testId === 'filter-feature');
    await page.keyboard.press('ArrowDown');
    await page.waitForURL(/feature=/);
    await tableReady(page);
    await page.keyboard.press('ArrowUp');
    await page.waitForURL((u) => !u.searchParams.has('feature'));
    await tableReady(page);
    // The refunds toggle: Space.
    await tabTo('the refunds toggle', (f) => f.testId === 'filter-refunds');
    await page.keyboard.press('Space');
    await page.waitForURL(/refunds=1/);
    await tableReady(page);
    // A legend toggle: Enter hides the series, Space shows it again.
    const legend = await tabTo('a legend toggle', (f) => f.testId?.startsWith('legend-') ?? false);
    const button = page.getByTestId(legend.testId!);
    await page.keyboard.press('Enter');
    expect(await button.getAttribute('aria-pressed')).toBe('false');
    await page.keyboard.press('Space');
    expect(await button.getAttribute('aria-pressed')).toBe('true');
    // A row's menu: Enter opens it, Tab reaches its items, Escape closes it, Space opens it again, Enter runs an item.
    await tabTo('a row’s menu', (f) => f.popup === 'menu');
    await page.keyboard.press('Enter');
    await page.getByRole('menu').waitFor();
    await tabTo('the menu’s first item', (f) => f.role === 'menuitem');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    expect(await focused()).toMatchObject({ popup: 'menu', visible: true });
    await page.keyboard.press('Space');
    await page.getByRole('menu').waitFor();
    await tabTo('“Show related movements”', (f) => f.role === 'menuitem' && f.text.startsWith('Show related movements'));
    await page.keyboard.press('Enter');
    await page.waitForURL(/consumptionId=/);
    await page.getByTestId('related-consumption').waitFor();
  });

  it('a key revoked mid-session: the next request’s 401 returns the console to sign-in with an explanation', async () => {
    const key = await server.harness.createKey(CONSOLE_ACCOUNT, 'analyst');
    const page = await signedIn(key);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle' })}`);
    await tableReady(page);
    const revoked = await fetch(`${server.url}/v1/accounts/${CONSOLE_ACCOUNT}/keys/${key.split('_')[1]}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${server.keys.admin}` },
    });
    expect(revoked.ok).toBe(true);
    // The page does not know yet; its next request (a filter change) is refused.
    await page.getByTestId('filter-credit-type').selectOption('email');
    await page.getByTestId('api-key').waitFor();
    expect(await page.getByRole('alert').innerText()).toBe('Your key was refused (unknown or revoked). Sign in again.');
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);
    expect(await page.getByTestId('sign-out').count()).toBe(0);
  });

  it('a row’s related movements: the consumption with its refunds, and every access to the same dataKey, in two labelled views', async () => {
    type Rows = { items: { rowId: number; kind: string; consumptionId: string | null; dataKey: string | null }[] };
    const history = (query: Record<string, string>) => server.api<Rows>(`/v1/accounts/${CONSOLE_ACCOUNT}/history?${new URLSearchParams(query)}`);
    // The table's first rows (the cycle, with refunds; the refunds are the newest): a refund whose consumption bought a datum accessed more than once.
    const cycle = { from: '2026-11-01T04:00:00.000Z', to: '2026-12-01T05:00:00.000Z', includeRefunds: 'true', limit: '100' };
    let found: { refund: Rows['items'][number]; consumption: Rows; accesses: Rows; dataKey: string } | undefined;
    for (const refund of (await history(cycle)).items.filter((r) => r.kind === 'refund')) {
      const consumption = await history({ consumptionId: refund.consumptionId!, includeRefunds: 'true' });
      const dataKey = consumption.items.find((r) => r.kind === 'consumption')?.dataKey;
      if (!dataKey) continue;
      const accesses = await history({ dataKey, includeRefunds: 'true' });
      if (accesses.items.length >= 2) {
        found = { refund, consumption, accesses, dataKey };
        break;
      }
    }
    expect(found).toBeDefined();
    const { refund, consumption, accesses, dataKey } = found!;
    expect(consumption.items.map((r) => r.kind).sort()).toEqual(['consumption', 'refund']);

    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle', refunds: '1' })}`);
    await tableReady(page);
    const row = page.locator(`table.history tbody tr[data-row-id="${refund.rowId}"]`);
    for (let i = 0; i < 100 && (await row.count()) === 0; i++) await page.getByTestId('history-scroll').evaluate((el) => (el.scrollTop += 200));
    await row.getByRole('button').click();
    await page.getByRole('menuitem', { name: 'Show related movements (the consumption and its refunds)' }).click();
    await page.waitForURL(new RegExp(`consumptionId=${refund.consumptionId}`));

    const rowIds = async (testId: string) =>
      (
        await page
          .getByTestId(testId)
          .locator('tbody tr[data-row-id]')
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-row-id'))))
      ).sort();
    // The first view: the consumption and its refund, with their headings.
    const ofConsumption = page.getByRole('region', { name: 'The consumption and its refunds' });
    await ofConsumption.waitFor();
    expect(await page.locator('#related-consumption-title').innerText()).toBe(`Consumption “${refund.consumptionId}” and its refunds`);
    expect(await rowIds('related-consumption-scroll')).toEqual(consumption.items.map((r) => r.rowId).sort());
    expect(await ofConsumption.locator('tr.refund-row').count()).toBe(1);
    // The second view: every access to the consumption's dataKey (a refund row names none: its consumption's is used).
    const ofDatum = page.getByRole('region', { name: `Every access to ${dataKey}` });
    await ofDatum.waitFor();
    expect(await page.locator('#related-datakey-title').innerText()).toBe(`Every access to “${dataKey}”`);
    await pageSettled(page);
    expect(await rowIds('related-datakey-scroll')).toEqual(accesses.items.map((r) => r.rowId).sort());
    expect(await page.getByTestId('related-datakey-count').innerText()).toBe(`${accesses.items.length} rows`);
    await page.getByTestId('related').screenshot({ path: join(CONSOLE_ARTIFACTS, 'history-related-light-desktop.png') });
    // Back to the whole table.
    await page.getByTestId('related-close').click();
    await page.waitForURL((u) => !u.searchParams.has('consumptionId'));
    await tableReady(page);
    expect(await page.getByTestId('related').count()).toBe(0);
  });

  it('CSV export is the server’s CSV of the same filters', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle', feature: 'exports' })}`);
    await tableReady(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const file = await download.path();
    const fromBrowser = readFileSync(file!, 'utf8');
    const res = await fetch(
      `${server.url}/v1/accounts/${CONSOLE_ACCOUNT}/history.csv?from=2026-11-01T04:00:00.000Z&to=2026-12-01T05:00:00.000Z&feature=exports&includeRefunds=false`,
      { headers: { Authorization: `Bearer ${server.keys.admin}` } },
    );
    const fromApi = await res.text();
    expect(fromBrowser).toBe(fromApi);
    expect(fromApi.split('\r\n').length).toBeGreaterThan(10);
    expect(download.suggestedFilename()).toBe(`credit-usage-${CONSOLE_ACCOUNT}.csv`);
  });

  it('Date and Feature stay visible after a horizontal scroll (phone width)', async () => {
    const page = await signedIn(server.keys.admin, { viewport: PHONE });
    await page.goto(`${server.url}/history`);
    await tableReady(page);
    const scroller = page.getByTestId('history-scroll');
    const before = await page.locator('table.history thead th').nth(0).boundingBox();
    await scroller.evaluate((el) => (el.scrollLeft = 600));
    await page.waitForFunction(() => document.querySelector('[data-testid="history-scroll"]')!.scrollLeft > 0);
    const box = await scroller.boundingBox();
    const date = await page.locator('table.history tbody tr[data-row-id] td').nth(0).boundingBox();
    const feature = await page.locator('table.history tbody tr[data-row-id] td').nth(1).boundingBox();
    const action = await page.locator('table.history tbody tr[data-row-id] td').nth(2).boundingBox();
    expect(Math.round(date!.x)).toBe(Math.round(before!.x));
    expect(date!.x).toBeGreaterThanOrEqual(box!.x);
    expect(feature!.x).toBeLessThan(box!.x + box!.width);
    expect(Math.round(feature!.x)).toBe(Math.round(date!.x + date!.width));
    expect(action!.x).toBeLessThan(feature!.x); // scrolled under the frozen columns
  });

  it('a member sees only their own usage, in the UI and by forging the URL', async () => {
    const page = await signedIn(server.keys.member);
    await page.goto(`${server.url}/history`);
    await tableReady(page);
    expect(new Set(await page.locator('table.history tbody tr[data-row-id] td:nth-child(7)').allInnerTexts())).toEqual(new Set([CONSOLE_USERS[0]]));
    await page.goto(`${server.url}${historyUrl({ user: CONSOLE_USERS[1] })}`);
    // The server refuses; the console explains, never shows another member's rows.
    await page.getByText('Not allowed').first().waitFor();
    expect(await page.locator('table.history tbody tr[data-row-id]').count()).toBe(0);
    await page.goto(`${server.url}/audit`);
    await page.getByText('The member role cannot see the audit trail').waitFor();
    await page.goto(`${server.url}/?account=globex`);
    expect(await page.getByTestId('who').innerText()).toContain(CONSOLE_ACCOUNT);
  });

  it('scrolls through 10,000+ loaded rows with a bounded DOM (virtualised rows, keyset pages)', async () => {
    const page = await signedIn(server.keys.admin);
    const query = { preset: 'custom', from: '2026-09-01', to: '2026-11-30', refunds: '1' };
    await page.goto(`${server.url}${historyUrl(query)}`);
    await tableReady(page);
    const scroller = page.getByTestId('history-scroll');
    const label = page.getByTestId('row-count');
    for (let i = 0; i < 400 && (await label.innerText()).includes('more'); i++) {
      await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForTimeout(25);
    }
    const count = Number((await label.innerText()).split(' ')[0]);
    // Every row the API has for these filters, all loaded.
    const csv = await fetch(`${server.url}/v1/accounts/${CONSOLE_ACCOUNT}/history.csv?from=2026-09-01T04:00:00.000Z&to=2026-12-01T05:00:00.000Z`, {
      headers: { Authorization: `Bearer ${server.keys.admin}` },
    }).then((r) => r.text());
    expect(count).toBe(csv.trimEnd().split('\r\n').length - 1);
    expect(count).toBeGreaterThanOrEqual(10_000);
    // At the very bottom, the last row is drawn, and only a window of rows is in the DOM.
    await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(
      (last) => document.querySelector('table.history tbody tr[data-row-id]:last-of-type')?.getAttribute('data-index') === String(last),
      count - 1,
    );
    const rendered = await page.locator('table.history tbody tr[data-row-id]').count();
    expect(rendered).toBeLessThan(120);
  });

  it('an admin creates a member key (shown once) and revokes it', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}/keys`);
    await page.getByTestId('keys').waitFor();
    await page.getByTestId('key-role').selectOption('member');
    await page.getByTestId('key-user').fill('fay@acme.test');
    await page.getByTestId('key-create').click();
    const key = await page.getByTestId('created-key-value').innerText();
    expect(key).toMatch(/^clk_[0-9a-f]{12}_/);
    const keyId = key.split('_')[1];
    await page.locator(`tr[data-key-id="${keyId}"]`).waitFor();
    const me = await server.api<{ role: string; userId: string }>('/v1/me', key);
    expect(me).toMatchObject({ role: 'member', userId: 'fay@acme.test' });
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId(`revoke-${keyId}`).click();
    await page.locator(`tr[data-key-id="${keyId}"]`).getByText('revoked').waitFor();
    await expect(server.api('/v1/me', key)).rejects.toThrow(/401/);
  });

  it('verify this account: the server re-derives it and the console says it matches', async () => {
    const page = await signedIn(server.keys.analyst);
    await page.goto(`${server.url}/audit`);
    await page.getByTestId('events').waitFor();
    await page.getByTestId('verify').click();
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    expect(await result.innerText()).toMatch(/Verified: the hash chain holds over \d+ events; \d+ events re-derived/);
  });

  it('a history row links to its event in the audit trail', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}${historyUrl({ preset: 'cycle', feature: 'exports' })}`);
    await tableReady(page);
    await page.locator('table.history tbody tr[data-row-id]').first().getByRole('button').click();
    await page.getByRole('menuitem', { name: 'Show its event in the audit trail' }).click();
    await page.waitForURL(/\/audit\?position=\d+/);
    const position = new URL(page.url()).searchParams.get('position');
    await page.locator(`tr.focused[data-position="${position}"]`).waitFor();
  });

  it('serves the console with a strict CSP and cache headers; the API, /docs and /health unchanged', async () => {
    const page = await fetch(`${server.url}/history`);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/https?:/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const js = await fetch(`${server.url}${asset}`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}/health`)).headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await fetch(`${server.url}/v1/me`)).status).toBe(401);
    expect((await fetch(`${server.url}/docs/json`)).status).toBe(200);
    expect((await fetch(`${server.url}/assets/nothing.js`)).status).toBe(404);
    // No CSP violation while a page runs.
    const tab = await signedIn(server.keys.admin);
    const violations: string[] = [];
    tab.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await tab.goto(`${server.url}/history`);
    await tableReady(tab);
    expect(violations).toEqual([]);
  });

  const PAGES = [
    ['sign-in', null],
    ['overview', '/'],
    ['history', '/history?preset=cycle&refunds=1'],
    ['breakdown', '/breakdown?preset=cycle'],
    ['cycles', '/cycles'],
    ['audit', '/audit'],
    ['keys', '/keys'],
  ] as const;

  it('axe-core finds no serious or critical violation on any page (light and dark)', async () => {
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    for (const dark of [false, true]) {
      const page = await signedIn(server.keys.admin, { bypassCSP: true, dark });
      for (const [name, path] of PAGES) {
        if (path === null) continue;
        await page.goto(`${server.url}${path}`);
        await page.locator('main h1').first().waitFor();
        await pageSettled(page);
        await page.evaluate(axeSource);
        const results = await page.evaluate(async () => {
          const axe = (
            window as unknown as {
              axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
            }
          ).axe;
          const r = await axe.run(document, { resultTypes: ['violations'] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
        });
        const serious = results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        expect({ page: name, dark, serious }).toEqual({ page: name, dark, serious: [] });
      }
    }
  });

  it('saves screenshots of every page: light and dark, desktop and phone', async () => {
    const saved: string[] = [];
    for (const [device, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      for (const dark of [false, true]) {
        const theme = dark ? 'dark' : 'light';
        const page = await signedIn(server.keys.superuser, { viewport, dark });
        for (const [name, path] of PAGES) {
          if (path === null) {
            const context = await consoleBrowser.newContext({ viewport, colorScheme: dark ? 'dark' : 'light' });
            const blank = await context.newPage();
            await blank.goto(server.url);
            await blank.getByTestId('api-key').waitFor();
            const file = join(CONSOLE_ARTIFACTS, `${name}-${theme}-${device}.png`);
            await blank.screenshot({ path: file });
            saved.push(file);
            continue;
          }
          await page.goto(`${server.url}${path}${path.includes('?') ? '&' : '?'}account=${CONSOLE_ACCOUNT}`);
          await page.locator('main h1').first().waitFor();
          await pageSettled(page);
          const file = join(CONSOLE_ARTIFACTS, `${name}-${theme}-${device}.png`);
          await page.screenshot({ path: file, fullPage: device === 'desktop' && name !== 'history' && name !== 'audit' });
          saved.push(file);
        }
      }
    }
    expect(saved).toHaveLength(PAGES.length * 4);
    updateDocImages(saved);
  });
});
