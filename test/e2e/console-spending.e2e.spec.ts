import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { CONSOLE_ACCOUNT, CONSOLE_PLAN, CONSOLE_USERS } from '../../bench/console-seed';
import { ConsoleBrowser, CONSOLE_ARTIFACTS, DESKTOP, PHONE, pageSettled, SignInOptions, updateDocImages } from '../support/console-browser';
import { ConsoleServer, startConsoleServer } from '../support/console-server';

/**
 * The console's spending controls and reservations in real Chromium against a real server: the
 * Members page per role (an admin's edit agrees with the API; a member sees only itself, also
 * through a forged URL or API call; an analyst cannot edit), the rate card and reserved/available
 * on the overview after real reservations, the "Show holds" toggle, axe-core, and screenshots.
 */
const ROWS = 600;
const [ANA, BEN] = CONSOLE_USERS;
const RATES = [
  { feature: 'people_search', creditType: 'email', credits: 1 },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 5 },
  { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 10 },
];

jest.setTimeout(180_000);

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** An API answer as the tests read it (the assertions check its fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** What the page-side check reads of an element (the test's tsconfig has no DOM types). */
interface Box {
  tagName: string;
  className: string;
  parentElement: { closest(selector: string): unknown };
  getBoundingClientRect(): { right: number };
}

interface Budget {
  used: number;
  reserved: number;
  limit: number | null;
  limitSource: string | null;
  remaining: number | null;
}

describe('web console: spending controls and reservations in Chromium', () => {
  let server: ConsoleServer;
  let consoleBrowser: ConsoleBrowser;
  const account = `/v1/accounts/${CONSOLE_ACCOUNT}`;

  /** Any method with a key; the status and the parsed body (no throw: refusals are what some tests want). */
  async function call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
  async function ok(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await call(method, path, server.keys.superuser, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  beforeAll(async () => {
    server = await startConsoleServer(ROWS);
    // A rate card in force and a cheaper one from the next cycle; member limits; open, captured and released holds.
    await ok('PUT', `${account}/plan`, { planId: 'growth', creditTypes: CONSOLE_PLAN.creditTypes, rates: RATES, effective: 'now' });
    await ok('PUT', `${account}/plan`, {
      planId: 'growth-2027',
      creditTypes: CONSOLE_PLAN.creditTypes,
      rates: RATES.map((r) => ({ ...r, credits: Math.max(1, r.credits - 1) })),
      clientPrices: false,
      effective: 'next_cycle',
    });
    await ok('PUT', `${account}/members/default/limits`, { creditTypes: { email: 20_000, mobile: 30_000 } });
    await ok('PUT', `${account}/members/${encodeURIComponent(ANA)}/limits`, { creditTypes: { email: 9_000, mobile: 50_000 } });
    const hold = (reservationId: string, credits: number) => ({
      reservationId,
      userId: ANA,
      creditType: 'email',
      feature: 'people_search',
      action: 'email_reveal',
      credits,
      expiresInSeconds: 3_600,
    });
    await ok('POST', `${account}/reservations`, hold('res-open', 25));
    await ok('POST', `${account}/reservations`, hold('res-captured', 10));
    await ok('POST', `${account}/reservations/res-captured/capture`, { consumptionId: 'c-from-res', credits: 4, dataRequested: 'email' });
    await ok('POST', `${account}/reservations`, hold('res-released', 7));
    const last = await ok('POST', `${account}/reservations/res-released/release`, { reason: 'provider down' });
    await ok('GET', `${account}/history?limit=1&minPosition=${last.position ?? 0}`);
    consoleBrowser = await ConsoleBrowser.launch();
  }, 300_000);
  afterAll(async () => {
    await consoleBrowser?.close();
    if (server) await server.stop();
  });

  const signedIn = (key: string, options: SignInOptions = {}): Promise<Page> => consoleBrowser.signedIn(server, key, options);
  const settled = pageSettled;
  const number = (s: string) => Number(s.replace(/[,−]/g, ''));
  const memberRow = (page: Page, userId: string) => page.locator(`[data-testid="members"] tr[data-row="${userId}"]`);
  const apiMember = async (userId: string) =>
    (await call('GET', `${account}/members/${encodeURIComponent(userId)}`, server.keys.admin)).body as {
      limits: Record<string, number>;
      creditTypes: Record<string, Budget>;
    };
  /** The figures a row shows for a credit type: used, and the limit (null: "no limit"). */
  async function shownBudget(page: Page, userId: string, creditType: string) {
    const cell = memberRow(page, userId).getByTestId(`budget-${creditType}`);
    const limit = await cell.getByTestId('limit').innerText();
    return { used: number(await cell.getByTestId('used').innerText()), limit: limit === 'no limit' ? null : number(limit) };
  }
  async function openMembers(page: Page, query = '') {
    await page.goto(`${server.url}/members${query}`);
    await page.locator('main h1').waitFor();
    await settled(page);
  }

  it('admin: every member with used vs limit as the API says; edits a limit and removes one; the page and the API agree', async () => {
    const page = await signedIn(server.keys.admin);
    expect((await page.locator('header nav a').allTextContents()).map((t) => t.trim())).toContain('Members');
    await page.locator('header nav a', { hasText: 'Members' }).click();
    await page.getByTestId('members').waitFor();
    await settled(page);
    const list = (await call('GET', `${account}/members?limit=50`, server.keys.admin)).body as {
      items: { userId: string; creditTypes: Record<string, Budget> }[];
    };
    expect(await page.locator('[data-testid="members"] tbody tr').count()).toBe(list.items.length);
    for (const m of list.items)
      for (const [type, b] of Object.entries(m.creditTypes)) expect(await shownBudget(page, m.userId, type)).toEqual({ used: b.used, limit: b.limit });
    expect(await page.getByTestId('default-limits').innerText()).toContain('ai_research no limit · email 20,000 · export no limit · mobile 30,000');
    // The open hold counts against ana's email limit.
    expect(number(await memberRow(page, ANA).getByTestId('budget-email').getByTestId('reserved').innerText())).toBe(25);

    await page.getByTestId(`edit-${ANA}`).click();
    const editor = page.getByTestId('limits-editor');
    await editor.getByRole('heading', { name: `Limits of ${ANA}` }).waitFor();
    await editor.getByLabel('email', { exact: true }).fill('12345');
    await editor.getByTestId('limit-remove-mobile').check();
    await editor.getByTestId('limits-save').click();
    await page.getByTestId('limits-saved').waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('limits-saved');
    await settled(page);
    const after = await apiMember(ANA);
    expect(after.limits).toEqual({ email: 12_345 });
    expect(after.creditTypes.email).toMatchObject({ limit: 12_345, limitSource: 'member' });
    expect(after.creditTypes.mobile).toMatchObject({ limit: 30_000, limitSource: 'default' });
    expect(await shownBudget(page, ANA, 'email')).toEqual({ used: after.creditTypes.email.used, limit: 12_345 });
    expect(await shownBudget(page, ANA, 'mobile')).toEqual({ used: after.creditTypes.mobile.used, limit: 30_000 });
    expect(await memberRow(page, ANA).getByTestId('budget-mobile').innerText()).toContain('account default');

    // The API's 400 is shown next to the field it names; nothing changes.
    await page.getByTestId(`edit-${BEN}`).click();
    await editor.getByLabel('export', { exact: true }).fill('-5');
    await editor.getByTestId('limits-save').click();
    const fieldError = editor.getByTestId('limit-error-export');
    await fieldError.waitFor();
    expect(await fieldError.innerText()).toMatch(/\S/);
    expect(await editor.getByLabel('export', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await editor.getByTestId('limits-failure').innerText()).toContain('Not valid');
    expect((await apiMember(BEN)).limits).toEqual({});
    await editor.getByRole('button', { name: 'Cancel' }).click();

    // Default limits: a removal is explicit, and the API agrees.
    await page.getByTestId('edit-defaults').click();
    await editor.getByTestId('limit-remove-mobile').check();
    await editor.getByTestId('limits-save').click();
    await page.getByTestId('limits-saved').waitFor();
    await settled(page);
    expect((await call('GET', `${account}/members?limit=1`, server.keys.admin)).body.defaultLimits).toEqual({ email: 20_000 });
    expect(await page.getByTestId('default-limits').innerText()).toContain('mobile no limit');
    expect(await shownBudget(page, BEN, 'mobile')).toMatchObject({ limit: null });

    // A member id the API refuses: its message, no editor.
    await page.getByTestId('other-member').fill('has space');
    await page.getByTestId('other-member-edit').click();
    await page.getByText('The request was refused').waitFor();

    // Each row links to the history filtered to that member.
    await memberRow(page, BEN).getByRole('link').click();
    await page.waitForURL((u) => u.pathname === '/history' && u.searchParams.get('user') === BEN);
    await page.getByTestId('history-scroll').waitFor();
    expect(await page.getByTestId('filter-user').inputValue()).toBe(BEN);
  });

  it('member: only its own entry, no editing; a forged URL or API call is refused', async () => {
    const page = await signedIn(server.keys.member);
    expect((await page.locator('header nav a').allTextContents()).map((t) => t.trim())).toEqual(['Overview', 'History', 'Breakdown', 'Members']);
    await openMembers(page);
    await page.getByRole('heading', { name: 'Your spending limits' }).waitFor();
    expect(await page.locator('[data-testid="members"] tbody tr').count()).toBe(1);
    const own = await apiMember(ANA);
    expect(await shownBudget(page, ANA, 'email')).toEqual({ used: own.creditTypes.email.used, limit: own.creditTypes.email.limit });
    expect(await page.getByRole('button', { name: /Edit/ }).count()).toBe(0);
    expect(await page.getByTestId('edit-defaults').count()).toBe(0);

    await openMembers(page, `?user=${encodeURIComponent(BEN)}`);
    await page.getByText('Not allowed').first().waitFor();
    expect(await page.locator('[data-testid="members"]').count()).toBe(0);
    expect((await call('GET', `${account}/members`, server.keys.member)).status).toBe(403);
    expect((await call('GET', `${account}/members/${encodeURIComponent(BEN)}`, server.keys.member)).status).toBe(403);
    expect((await call('PUT', `${account}/members/${encodeURIComponent(ANA)}/limits`, server.keys.member, { creditTypes: { email: 1 } })).status).toBe(403);
  });

  it('analyst: every member, read-only (no edit controls; the API refuses an edit)', async () => {
    const page = await signedIn(server.keys.analyst);
    await openMembers(page);
    await page.getByTestId('members').waitFor();
    expect(await page.locator('[data-testid="members"] tbody tr').count()).toBeGreaterThanOrEqual(CONSOLE_USERS.length);
    expect(await page.getByRole('button', { name: /Edit/ }).count()).toBe(0);
    expect(await page.getByTestId('other-member').count()).toBe(0);
    expect(await page.locator('main').innerText()).toContain('Read-only: only an admin changes limits.');
    expect((await call('PUT', `${account}/members/default/limits`, server.keys.analyst, { creditTypes: { email: 1 } })).status).toBe(403);
  });

  it('overview: the rate card in force and the pending one; reserved and available per credit type after real reservations', async () => {
    const page = await signedIn(server.keys.admin);
    await page.getByTestId('rates').waitFor();
    await settled(page);
    const rates = (await call('GET', `${account}/rates`, server.keys.admin)).body;
    const rows = await page.locator('[data-testid="rates"] tbody tr').allInnerTexts();
    expect(rows).toHaveLength(rates.rates.length);
    expect(rows.map((r) => r.split('\t').map((c) => c.trim()))).toEqual(
      expect.arrayContaining([
        ['People search', 'default for the feature', 'email', '1'],
        ['People search', 'Mobile reveal', 'mobile', '5'],
        ['Exports', 'Csv export', 'export', '10'],
      ]),
    );
    expect(await page.getByTestId('client-prices').innerText()).toContain('Client prices are allowed');
    expect(rates.pending).toMatchObject({ planId: 'growth-2027', clientPrices: false });
    const pendingTitle = await page.getByTestId('pending-rates-title').innerText();
    expect(pendingTitle).toContain('Dec 1, 2026');
    expect(pendingTitle).toContain('growth-2027');
    expect(await page.locator('[data-testid="pending-rates"] tbody tr').count()).toBe(rates.pending.rates.length);
    expect(await page.getByTestId('rate-card').innerText()).toContain('Client prices are not allowed');

    const balances = (await call('GET', `${account}/balances`, server.keys.admin)).body.balances as {
      creditType: string;
      remaining: number;
      reserved: number;
      available: number;
    }[];
    const email = balances.find((b) => b.creditType === 'email')!;
    expect(email.reserved).toBe(25);
    for (const b of balances) {
      const card = page.getByTestId(`card-${b.creditType}`);
      expect(number(await card.getByTestId('reserved').innerText())).toBe(b.reserved);
      expect(number(await card.getByTestId('available').innerText())).toBe(b.remaining - b.reserved);
    }
  });

  it('"Show holds" adds the holds, releases and expiries as distinct rows (held in the URL); the captured charge shows its reservation', async () => {
    const page = await signedIn(server.keys.admin);
    await page.goto(`${server.url}/history?preset=cycle`);
    await page.getByTestId('history-scroll').waitFor();
    await settled(page);
    expect(await page.locator('tr.hold-row').count()).toBe(0);
    // The charge of the captured reservation, newest, names its reservation.
    const charge = page.locator('tr[data-kind="consumption"]', { hasText: 'res-captured' });
    await charge.waitFor();

    await page.getByTestId('filter-holds').check();
    await page.waitForURL(/holds=1/);
    await page.locator('tr.hold-row').first().waitFor();
    await settled(page);
    const kinds = await page.locator('tr.hold-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds.filter((k) => k === 'hold')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'hold_release')).toHaveLength(2);
    const api = (await call('GET', `${account}/history?from=2026-11-20T14:45:00.000Z&includeHolds=true&limit=50`, server.keys.admin)).body.items as {
      kind: string;
    }[];
    expect(kinds.length).toBe(api.filter((r) => r.kind.startsWith('hold')).length);
    expect(await page.locator('tr.hold-row', { hasText: 'res-open' }).first().innerText()).toContain('Hold');
    // Distinct without colour: a badge and a label in the credits.
    expect(await page.locator('tr.hold-row .hold-badge').count()).toBe(kinds.length);

    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('holds'));
    await settled(page);
    expect(await page.locator('tr.hold-row').count()).toBe(0);
    expect(await page.getByTestId('filter-holds').isChecked()).toBe(false);
  });

  it('axe-core: no serious or critical violation on the Members page (editor open), the overview and the history with holds, light and dark', async () => {
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    for (const dark of [false, true]) {
      const page = await signedIn(server.keys.admin, { bypassCSP: true, dark });
      for (const [name, path] of [
        ['members', '/members'],
        ['overview', '/'],
        ['history', '/history?preset=cycle&holds=1'],
      ] as const) {
        await page.goto(`${server.url}${path}`);
        await page.locator('main h1').first().waitFor();
        await settled(page);
        if (name === 'members') {
          await page.getByTestId(`edit-${ANA}`).click();
          await page.getByTestId('limits-editor').waitFor();
        }
        await page.evaluate(axeSource);
        const serious = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ['violations'] });
          return r.violations
            .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
            .map((v: { id: string; nodes: { target: string[] }[] }) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
        });
        expect({ page: name, dark, serious }).toEqual({ page: name, dark, serious: [] });
      }
    }
  });

  it('the Members page by keyboard: Tab reaches Edit, the editor takes the focus, labels name every box', async () => {
    const page = await signedIn(server.keys.admin);
    await openMembers(page);
    const edit = page.getByTestId(`edit-${ANA}`);
    await edit.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('limits-editor').waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`Limits of ${ANA}`);
    await page.keyboard.press('Tab');
    // The plan's credit types in the API's order: ai_research first.
    expect(await page.evaluate(() => document.activeElement?.labels?.[0]?.textContent)).toBe('ai_research');
    // Cancel (by keyboard) gives the focus back to the page's title, not to nowhere.
    await page.getByRole('button', { name: 'Cancel' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('limits-editor').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('members-title');
  });

  it('saves screenshots of the Members page (light and dark, desktop and phone; usable at 390 px), the overview and the history with holds', async () => {
    const saved: string[] = [];
    for (const [device, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      for (const dark of [false, true]) {
        const page = await signedIn(server.keys.superuser, { viewport, dark });
        await openMembers(page, `?account=${CONSOLE_ACCOUNT}`);
        await page.getByTestId('members').waitFor();
        // No page-wide sideways scroll: the table scrolls in its own region.
        const wide = await page.evaluate(
          (w) =>
            [...document.querySelectorAll('body *')]
              .filter((e: Box) => e.getBoundingClientRect().right > w + 1 && !e.parentElement.closest('.table-wrap'))
              .slice(0, 12)
              .map((e: Box) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
          viewport.width,
        );
        expect(wide).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
        const file = join(CONSOLE_ARTIFACTS, `members-${dark ? 'dark' : 'light'}-${device}.png`);
        await page.screenshot({ path: file, fullPage: device === 'desktop' });
        saved.push(file);
      }
    }
    // The overview's rate card and reserved figures, and the history with holds (desktop, light).
    const page = await signedIn(server.keys.admin);
    await page.getByTestId('rates').waitFor();
    await settled(page);
    saved.push(join(CONSOLE_ARTIFACTS, 'overview-spending-light-desktop.png'));
    await page.screenshot({ path: saved[saved.length - 1], fullPage: true });
    await page.goto(`${server.url}/history?preset=cycle&holds=1`);
    await page.locator('tr.hold-row').first().waitFor();
    await settled(page);
    // The holds under the limit changes that the admin test wrote after them.
    await page.locator('tr.hold-row').first().scrollIntoViewIfNeeded();
    saved.push(join(CONSOLE_ARTIFACTS, 'history-holds-light-desktop.png'));
    await page.screenshot({ path: saved[saved.length - 1] });
    expect(saved).toHaveLength(6);
    updateDocImages(saved);
  });
});
