import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (a Playwright browser download cannot work here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Where the console specs save their screenshots (test artifacts). */
export const CONSOLE_ARTIFACTS = join(__dirname, '../../test-artifacts/console');
const DOC_IMAGES = join(__dirname, '../../docs/images');

// The page's globals, inside functions that run in the browser (this file is compiled without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface SignInOptions {
  readonly viewport?: { width: number; height: number };
  readonly dark?: boolean;
  readonly bypassCSP?: boolean;
  /** The page to open before signing in (default `/`). */
  readonly path?: string;
  /** Accept every confirm() the page raises (actions that ask before they act). */
  readonly acceptDialogs?: boolean;
}

/**
 * Waits until the page is drawn for the address in the address bar (the app marks `main` with the
 * address it last drew) and nothing on it is loading. Waiting for "nothing busy" alone can pass in
 * the moment between a navigation and the app's next render, with the last address's rows still on screen.
 */
export async function pageSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const main = document.querySelector('main#main');
    if (main && main.getAttribute('data-location') !== `${window.location.pathname}${window.location.search}`) return false;
    return !document.querySelector('[aria-busy="true"], .state.loading');
  });
}

/** A console server as the specs see it: its URL and the seed's instant (the browser's clock). */
interface ConsoleTarget {
  readonly url: string;
  readonly seed: { readonly now: string };
}

/** One headless Chromium for a spec file, and the signed-in tabs it opened (closed with it). */
export class ConsoleBrowser {
  private readonly contexts: BrowserContext[] = [];

  private constructor(readonly browser: Browser) {}

  static async launch(): Promise<ConsoleBrowser> {
    mkdirSync(CONSOLE_ARTIFACTS, { recursive: true });
    return new ConsoleBrowser(await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }));
  }

  /** A new tab signed in with `key` (through the sign-in form), the browser's clock at the server's. */
  async signedIn(server: ConsoleTarget, key: string, options: SignInOptions = {}): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: options.viewport ?? DESKTOP,
      colorScheme: options.dark ? 'dark' : 'light',
      acceptDownloads: true,
      bypassCSP: options.bypassCSP ?? false,
      timezoneId: 'Europe/Paris',
      locale: 'en-US',
    });
    this.contexts.push(context);
    const page = await context.newPage();
    if (options.acceptDialogs) page.on('dialog', (dialog) => void dialog.accept());
    await page.clock.setFixedTime(new Date(server.seed.now));
    await page.goto(`${server.url}${options.path ?? '/'}`);
    await page.getByTestId('api-key').fill(key);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('sign-out').waitFor();
    return page;
  }

  /** A browser context closed with this browser (for pages opened without signing in). */
  async newContext(options: Parameters<Browser['newContext']>[0]): Promise<BrowserContext> {
    const context = await this.browser.newContext(options);
    this.contexts.push(context);
    return context;
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined);
    await this.browser.close();
  }
}

/** With UPDATE_DOC_IMAGES=1, copies saved screenshots to docs/images as `console-<name>`. */
export function updateDocImages(saved: readonly string[]): void {
  if (process.env.UPDATE_DOC_IMAGES !== '1') return;
  mkdirSync(DOC_IMAGES, { recursive: true });
  for (const file of saved) copyFileSync(file, join(DOC_IMAGES, `console-${file.split('/').pop()}`));
}
