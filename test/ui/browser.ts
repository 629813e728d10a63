import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). One browser per test file;
 * contexts per scenario. `watch` collects console errors, page errors and failed requests, which the
 * tests assert are empty on every page.
 */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

export interface PageProblems {
  readonly list: string[];
}

export function watch(page: Page, options: { ignore?: RegExp[] } = {}): PageProblems {
  const list: string[] = [];
  const ignored = (text: string) => (options.ignore ?? []).some((pattern) => pattern.test(text));
  page.on('console', (message) => {
    if ((message.type() === 'error' || message.type() === 'warning') && !ignored(message.text()))
      list.push(`console.${message.type()}: ${message.text()} (${page.url()})`);
  });
  page.on('pageerror', (error) => list.push(`pageerror: ${error.message} (${page.url()})`));
  return { list };
}

export async function newContext(
  browser: Browser,
  options: { colorScheme?: 'light' | 'dark'; width?: number; javaScriptEnabled?: boolean } = {},
): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    timezoneId: 'Europe/Berlin',
    locale: 'en-GB',
  });
}
