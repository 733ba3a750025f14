import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { CONSOLE_ACCOUNT } from '../../bench/console-seed';
import { ConsoleBrowser, CONSOLE_ARTIFACTS, DESKTOP, PHONE, pageSettled, SignInOptions, updateDocImages } from '../support/console-browser';
import { ConsoleServer, startConsoleServer } from '../support/console-server';
import { eventually, WebhookReceiver } from '../support/webhook-receiver';

/**
 * The console's Webhooks page in real Chromium against a real server (inline dispatcher, a manual
 * ledger clock, so a failed attempt waits for "Retry now" rather than its schedule) and a real
 * HTTP receiver on loopback: create an endpoint, a grant's delivery in the log, retry, replay,
 * edit/disable/delete, role hiding, axe-core, screenshots.
 */
const ROWS = 300;

jest.setTimeout(180_000);

// The functions passed to page.evaluate/waitForFunction run in the page, where these exist.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

interface DeliveryView {
  deliveryId: string;
  eventId: string;
  type: string;
  status: string;
  origin: string;
  attemptCount: number;
  lastStatusCode: number | null;
}

describe('console: the webhooks page in Chromium', () => {
  let server: ConsoleServer;
  let consoleBrowser: ConsoleBrowser;
  let receiver: WebhookReceiver;
  /** The endpoint the first test creates through the page; later tests look at it. */
  let webhookId = '';

  beforeAll(async () => {
    server = await startConsoleServer(ROWS, { webhooks: { allowHttp: true, allowPrivate: true } });
    receiver = await WebhookReceiver.start();
    consoleBrowser = await ConsoleBrowser.launch();
  }, 300_000);
  afterAll(async () => {
    await consoleBrowser?.close();
    await receiver?.stop();
    if (server) await server.stop();
  });

  const signedIn = (key: string, options: SignInOptions = {}): Promise<Page> => consoleBrowser.signedIn(server, key, { ...options, acceptDialogs: true });
  const idle = pageSettled;
  const deliveries = (id: string) => server.api<{ items: DeliveryView[] }>(`/v1/accounts/${CONSOLE_ACCOUNT}/webhooks/${id}/deliveries`);
  /** Clicks Refresh until the delivery's row shows `status` (the log is read when asked, not pushed). */
  async function rowShows(page: Page, deliveryId: string, status: string) {
    const row = page.locator(`tr[data-delivery-id="${deliveryId}"]`);
    await eventually(async () => {
      await page.getByTestId('deliveries-refresh').click();
      await idle(page);
      expect(await row.getAttribute('data-status', { timeout: 1_000 })).toBe(status);
    });
    return row;
  }

  it('an admin adds an endpoint (secret shown once); a grant’s delivery arrives in the log; retry and replay', async () => {
    const page = await signedIn(server.keys.admin);
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoints yet').waitFor();

    // The form refuses a URL that is not one and an empty choice of types before asking the API.
    await page.getByTestId('webhook-create-url').fill('not a url');
    await page.getByTestId('webhook-create-submit').click();
    expect(await page.locator('.webhook-form [role="alert"]').count()).toBe(0); // the browser's own check of type=url stops it first
    await page.getByTestId('webhook-create-url').fill(receiver.url);
    await page.getByTestId('webhook-create-submit').click();
    await page.getByText('Choose at least one event type.').waitFor();

    await page.getByTestId('webhook-create-description').fill('billing service');
    await page.getByTestId('webhook-create-type-grant.created').check();
    await page.getByTestId('webhook-create-type-credits.depleted').check();
    await page.getByTestId('webhook-create-submit').click();
    const secret = await page.getByTestId('webhook-secret-value').innerText();
    expect(secret).toMatch(/^whsec_/);
    const row = page.locator('table[data-testid="webhooks"] tbody tr');
    await row.first().waitFor();
    webhookId = (await row.first().getAttribute('data-webhook-id'))!;
    expect(await row.first().innerText()).toContain(receiver.url);
    expect(await row.first().getByTestId('webhook-state').innerText()).toBe('Enabled');
    expect((await server.api<{ eventTypes: string[] }>(`/v1/accounts/${CONSOLE_ACCOUNT}/webhooks/${webhookId}`)).eventTypes).toEqual([
      'credits.depleted',
      'grant.created',
    ]);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('webhook-secret').count()).toBe(0);
    // Shown once: the API never answers it again.
    expect(JSON.stringify(await server.api(`/v1/accounts/${CONSOLE_ACCOUNT}/webhooks`))).not.toContain(secret);

    // A real credit movement; the receiver fails the first attempt of each message.
    receiver.reply = (_request, attempt) => ({ status: attempt === 1 ? 500 : 200 });
    await server.request('POST', `/v1/accounts/${CONSOLE_ACCOUNT}/grants`, {
      grantId: 'webhooks-console',
      creditType: 'export',
      credits: 25,
      reason: 'console webhooks test',
      expiresAt: '2027-01-01T05:00:00Z',
    });
    await eventually(() => expect(receiver.answered).toBe(1));
    const [delivery] = (await eventually(async () => {
      const page = await deliveries(webhookId);
      expect(page.items[0]?.attemptCount).toBe(1);
      return page;
    }))!.items;
    expect(delivery).toMatchObject({ type: 'grant.created', status: 'pending', lastStatusCode: 500 });

    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.waitForURL(new RegExp(`webhook=${webhookId}`));
    const pending = await rowShows(page, delivery.deliveryId, 'pending');
    const cells = await pending.locator('td').allInnerTexts();
    expect(cells.slice(0, 4)).toEqual(['grant.created', 'pending', '1', '500']);

    // The ledger's clock stands still: only "Retry now" makes the failed attempt due again.
    await page.getByTestId(`retry-${delivery.deliveryId}`).click();
    await page.getByTestId('deliveries-message').getByText('is due again now').waitFor();
    await eventually(() => expect(receiver.answered).toBe(2));
    const succeeded = await rowShows(page, delivery.deliveryId, 'succeeded');
    expect((await succeeded.locator('td').allInnerTexts()).slice(0, 4)).toEqual(['grant.created', 'succeeded', '2', '200']);
    for (const request of receiver.received) expect(WebhookReceiver.verify(secret, request)).toEqual(request.json);

    // Replay from its position: sent again with the same webhook-id, a new row marked as a replay.
    await page.getByTestId(`replay-${delivery.deliveryId}`).click();
    await page
      .getByTestId('deliveries-message')
      .getByText(/1 delivery queued/)
      .waitFor();
    await eventually(() => expect(receiver.received).toHaveLength(3));
    expect(receiver.ids()).toEqual([delivery.eventId]);
    const replayed = (await eventually(async () => {
      const log = await deliveries(webhookId);
      const replay = log.items.find((d) => d.origin === 'replay');
      expect(replay?.status).toBe('succeeded');
      return replay;
    }))!;
    await rowShows(page, replayed.deliveryId, 'succeeded');
    expect(await page.locator(`tr[data-delivery-id="${replayed.deliveryId}"] td`).first().innerText()).toBe('grant.created (replay)');

    // The status filter lives in the URL.
    await page.getByTestId('deliveries-status').selectOption('failed');
    await page.waitForURL(/status=failed/);
    await page.getByText('No failed deliveries.').waitFor();
    await page.getByTestId('deliveries-status').selectOption('');
    await page.locator(`tr[data-delivery-id="${delivery.deliveryId}"]`).waitFor();
    expect(violations).toEqual([]);
  });

  it('edits, disables, enables and deletes an endpoint; the API says the same', async () => {
    const page = await signedIn(server.keys.admin);
    const extra = await server.request<{ webhookId: string }>('POST', `/v1/accounts/${CONSOLE_ACCOUNT}/webhooks`, {
      url: `${receiver.url}/extra`,
      eventTypes: ['cycle.reset'],
    });
    const endpoint = () =>
      server.api<{ url: string; eventTypes: string[]; enabled: boolean; disabledReason: string | null; description: string | null }>(
        `/v1/accounts/${CONSOLE_ACCOUNT}/webhooks/${extra.webhookId}`,
      );
    await page.goto(`${server.url}/webhooks`);
    const row = page.locator(`tr[data-webhook-id="${extra.webhookId}"]`);
    await row.waitFor();

    await page.getByTestId(`edit-${extra.webhookId}`).click();
    await page.getByTestId('webhook-edit-url').fill(`${receiver.url}/renamed`);
    await page.getByTestId('webhook-edit-description').fill('renamed');
    await page.getByTestId('webhook-edit-type-plan.changed').check();
    await page.getByTestId('webhook-edit-submit').click();
    await page.getByTestId('webhook-edit').waitFor({ state: 'detached' });
    expect(await endpoint()).toMatchObject({ url: `${receiver.url}/renamed`, description: 'renamed', eventTypes: ['cycle.reset', 'plan.changed'] });
    // The list is read again once the dialog has closed: wait for the row to be drawn from that read.
    await row.getByText(`${receiver.url}/renamed`).waitFor();

    await page.getByTestId(`toggle-${extra.webhookId}`).click();
    await row.getByText('Disabled (by request)').waitFor();
    expect((await endpoint()).enabled).toBe(false);
    await page.getByTestId(`toggle-${extra.webhookId}`).click();
    await row.getByTestId('webhook-state').getByText('Enabled', { exact: true }).waitFor();
    expect((await endpoint()).enabled).toBe(true);

    await page.getByTestId(`rotate-${extra.webhookId}`).click();
    expect(await page.getByTestId('webhook-secret-value').innerText()).toMatch(/^whsec_/);

    await page.getByTestId(`delete-${extra.webhookId}`).click();
    await row.waitFor({ state: 'detached' });
    const list = await server.api<{ items: { webhookId: string }[] }>(`/v1/accounts/${CONSOLE_ACCOUNT}/webhooks`);
    expect(list.items.map((e) => e.webhookId)).toEqual([webhookId]);
  });

  it('hidden for member and analyst keys; a forged URL explains it, and the API refuses them (403)', async () => {
    for (const key of [server.keys.member, server.keys.analyst]) {
      const page = await signedIn(key);
      expect(await page.locator('header nav a').allTextContents()).not.toContain('Webhooks');
      await page.goto(`${server.url}/webhooks`);
      await page.getByRole('alert').getByText('cannot see the webhooks').waitFor();
      const answer = await fetch(`${server.url}/v1/accounts/${CONSOLE_ACCOUNT}/webhooks`, { headers: { Authorization: `Bearer ${key}` } });
      expect(answer.status).toBe(403);
    }
    // The superuser sees the page of the account they pick.
    const superuser = await signedIn(server.keys.superuser);
    await superuser.goto(`${server.url}/webhooks?account=${CONSOLE_ACCOUNT}`);
    await superuser.locator(`tr[data-webhook-id="${webhookId}"]`).waitFor();
  });

  const LOG_PATH = () => `/webhooks?webhook=${webhookId}`;

  it('axe-core finds no serious or critical violation (light and dark)', async () => {
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    for (const dark of [false, true]) {
      const page = await signedIn(server.keys.admin, { bypassCSP: true, dark });
      await page.goto(`${server.url}${LOG_PATH()}`);
      await page.getByTestId('deliveries-table').waitFor();
      await page.getByText('Add an endpoint').click(); // the form open too
      await idle(page);
      await page.evaluate(axeSource);
      const results = await page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return (r.violations as { id: string; impact: string; nodes: { target: string[] }[] }[]).map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
        }));
      });
      expect({ dark, serious: results.filter((v) => v.impact === 'serious' || v.impact === 'critical') }).toEqual({ dark, serious: [] });
    }
  });

  it('saves screenshots: light and dark, desktop and phone', async () => {
    const saved: string[] = [];
    for (const [device, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      for (const dark of [false, true]) {
        const page = await signedIn(server.keys.admin, { viewport, dark });
        await page.goto(`${server.url}${LOG_PATH()}`);
        await page.getByTestId('deliveries-table').waitFor();
        await idle(page);
        const file = join(CONSOLE_ARTIFACTS, `webhooks-${dark ? 'dark' : 'light'}-${device}.png`);
        await page.screenshot({ path: file, fullPage: device === 'desktop' });
        saved.push(file);
      }
    }
    expect(saved).toHaveLength(4);
    updateDocImages(saved);
  });
});
