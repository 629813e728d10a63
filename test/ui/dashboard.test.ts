import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { configWith } from '../../src/config/load.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { silentLogger } from '../helpers/pipeline.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { chromiumMissing, launchChromium, newContext, type PageProblems, watch } from './browser.ts';

/**
 * The dashboard in real Chromium against a real server (SQLite in a temp dir) and a real receiver:
 * the operator's flow end to end, then every page without JavaScript, a forced panel failure,
 * accessibility (axe) and screenshots in both themes, and the first-load JavaScript budget.
 */
const TOKEN = 'dashboard-test-admin-token-0123456789';
/** First-load JavaScript of any page, compressed (gzip), must stay under this. */
const JS_BUDGET_BYTES = 120 * 1024;
const SCREENSHOTS = process.env['HOOKYARD_UPDATE_SCREENSHOTS']
  ? new URL('../../docs/screenshots/', import.meta.url).pathname
  : join(tmpdir(), 'hookyard-screenshots');

const skip = chromiumMissing();

interface BrowserFocus {
  document: { activeElement: { textContent: string | null; id: string } | null };
}

/** The little of the browser's globals the page functions use. */
interface BrowserGlobals {
  document: { querySelector(selector: string): unknown; documentElement: { scrollWidth: number } };
  innerWidth: number;
}

describe('dashboard in Chromium', { skip }, () => {
  let server: RunningServer;
  let base: string;
  let receiver: Receiver;
  let browser: Browser;
  let dataDir: string;
  const pages: Record<string, string> = {};

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(
      response.status < 300,
      `${method} ${path}: ${response.status} ${await response.clone().text()}`,
    );
    return (await response.json()) as T;
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${base}/`);
    await page.waitForURL('**/ui/login');
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/ui/');
  }

  /** Hydrated, and the on-demand widgets (charts, JSON tree) have replaced their server fallbacks. */
  async function settled(page: Page): Promise<void> {
    await page.waitForSelector('html[data-hydrated]');
    // A function, not a string (the CSP forbids eval); typed by hand, as test files have no DOM library.
    await page.waitForFunction(() => {
      const { document } = globalThis as unknown as BrowserGlobals;
      return !document.querySelector('.chart-summary') && !document.querySelector('.json-wrap > pre');
    });
  }

  function assertClean(problems: PageProblems): void {
    assert.deepEqual(problems.list, [], 'no console errors, warnings or page errors');
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookyard-ui-'));
    receiver = await startReceiver({ respond: () => 200 });
    server = await startServer(
      configWith({
        dataDir,
        adminToken: TOKEN,
        port: '0',
        host: '127.0.0.1',
        allowedSubnets: '127.0.0.0/8',
        retrySchedule: '1s',
        logLevel: 'silent',
      }),
      silentLogger,
    );
    await server.started;
    base = server.url;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the operator flow: sign in, create, deliver, find, inspect, resend, disable, sign out', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watch(page);

    // A wrong token is a clear message, not a blank page.
    await page.goto(`${base}/ui/login`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not the admin token' }).waitFor();
    problems.list.length = 0; // the refused sign-in answers 401, which Chromium logs as a failed load

    await signIn(page);
    // Keyboard: the first Tab reaches the skip link, which moves focus to the page's content.
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as BrowserFocus).document.activeElement?.textContent),
      'Skip to content',
    );
    await page.keyboard.press('Enter');
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as BrowserFocus).document.activeElement?.id),
      'main',
    );
    assert.equal(
      (await context.cookies()).find((cookie) => cookie.name === 'hookyard_session')?.httpOnly,
      true,
      'HttpOnly session cookie',
    );

    await page.getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('Acme Billing');
    await page.getByLabel('Uid (optional)').fill('acme');
    await page.getByRole('button', { name: 'Create application' }).click();
    await page.getByRole('heading', { name: 'Acme Billing', level: 1 }).waitFor();
    pages['application'] = new URL(page.url()).pathname;

    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/hooks`);
    await page.getByLabel('Description').fill('Local receiver');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: `${receiver.url}/hooks`, level: 1 }).waitFor();
    pages['endpoint'] = new URL(page.url()).pathname;

    const message = await api<{ id: string }>('POST', '/app/acme/msg', {
      eventType: 'invoice.paid',
      eventId: 'evt-ui-1',
      payload: { invoice: 'inv_42', amount: 1200, lines: [{ sku: 'a', qty: 2 }] },
    });
    await receiver.waitFor(() => receiver.counts.get(message.id) === 1);

    // The explorer finds it by its eventId at once.
    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByLabel('Message id or event id').fill('evt-ui-1');
    await page.getByRole('button', { name: 'Search messages' }).click();
    await page.waitForURL('**/ui/messages?q=evt-ui-1');
    pages['explorer'] = '/ui/messages?q=evt-ui-1';
    await page.getByRole('link', { name: message.id }).click();
    await page.getByRole('heading', { name: message.id, level: 1 }).waitFor();
    pages['message'] = new URL(page.url()).pathname;
    await page.getByText('"inv_42"').first().waitFor();

    // Its attempt shows the receiver's response and the request as signed.
    await page.getByRole('region', { name: 'Attempts' }).getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Request as signed' }).waitFor();
    pages['attempt'] = new URL(page.url()).pathname;
    await page.getByText('Response body (as stored)').waitFor();
    assert.equal(await page.locator('pre.json.wrap').first().textContent(), 'ok');
    await page.getByRole('cell', { name: 'webhook-signature' }).waitFor();

    // Resend: a second attempt reaches the receiver and shows on the message page.
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByRole('heading', { name: message.id, level: 1 }).waitFor();
    await receiver.waitFor(() => receiver.counts.get(message.id) === 2);
    const attempts = page.getByRole('region', { name: 'Attempts' }).getByRole('row');
    for (let tries = 0; (await attempts.count()) < 3 && tries < 50; tries++) {
      await page.reload();
    }
    assert.equal(await attempts.count(), 3, 'a header row and two attempts');

    // Disable (asks first) and enable again.
    await page.goto(`${base}${pages['endpoint']}`);
    await page.getByRole('button', { name: 'Disable endpoint' }).click();
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByText('disabled', { exact: true }).first().waitFor();
    assert.equal(
      (await api<{ disabled: boolean }>('GET', `/app/acme/endpoint/${pages['endpoint'].split('/').pop()}`))
        .disabled,
      true,
    );
    await page.getByRole('button', { name: 'Enable endpoint' }).click();
    await page.getByRole('button', { name: 'Disable endpoint' }).waitFor();
    assert.equal(
      (await api<{ disabled: boolean }>('GET', `/app/acme/endpoint/${pages['endpoint'].split('/').pop()}`))
        .disabled,
      false,
    );

    await page.getByRole('link', { name: 'Event types', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('invoice.paid');
    await page.getByLabel('Description').fill('An invoice was paid in full.');
    await page.getByLabel(/JSON Schema/).fill(
      JSON.stringify({
        type: 'object',
        properties: { invoice: { type: 'string' } },
        examples: [{ invoice: 'inv_1' }],
      }),
    );
    await page.getByRole('button', { name: 'Add event type' }).click();
    await page.getByRole('heading', { name: 'invoice.paid' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/ui/login');
    await page.goto(`${base}/ui/apps`);
    await page.waitForURL('**/ui/login?next=*');
    assertClean(problems);
    await context.close();
  });

  test('every page is complete HTML with its data when JavaScript is off', async () => {
    const context = await newContext(browser, { javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page);
    const expectations: Array<[string, string]> = [
      ['/ui/', 'Deliveries per minute'],
      ['/ui/apps', 'Acme Billing'],
      [pages['application'] as string, 'Local receiver'],
      [pages['endpoint'] as string, 'Local receiver'],
      [pages['explorer'] as string, 'evt-ui-1'],
      [pages['message'] as string, 'inv_42'],
      [pages['attempt'] as string, 'webhook-signature'],
      ['/ui/event-types', 'An invoice was paid in full.'],
      ['/ui/live', 'Paused'],
    ];
    for (const [path, text] of expectations) {
      const response = await page.goto(`${base}${path}`);
      assert.equal(response?.status(), 200, path);
      assert.ok((await page.content()).includes(text), `${path} shows "${text}" without JavaScript`);
    }
    // Filters are links: the explorer's form works as a plain GET.
    await page.goto(`${base}/ui/messages`);
    await page.getByLabel('Event type').fill('invoice.paid');
    await page.getByRole('button', { name: 'Search messages' }).click();
    await page.waitForURL('**/ui/messages?*eventType=invoice.paid*');
    assert.ok((await page.content()).includes('evt-ui-1'));
    await context.close();
  });

  test('a failing panel shows its own error and retry while the rest of the page works', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watch(page, { ignore: [/status of 503/] });
    await signIn(page);
    await page.goto(`${base}/ui/apps`);
    let failing = true;
    await page.route('**/api/v1/app/*/stats/endpoints', (route) =>
      failing
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: JSON.stringify({
              code: 'storage_unavailable',
              detail: 'The database is unavailable (forced by the test).',
            }),
          })
        : route.continue(),
    );
    await page.getByRole('link', { name: 'Acme Billing' }).click();
    const endpoints = page.getByRole('region', { name: 'Endpoints' });
    await endpoints.getByRole('alert').filter({ hasText: 'forced by the test' }).waitFor();
    // The other panels rendered their data.
    await page.getByRole('region', { name: 'Recent messages' }).getByText('invoice.paid').first().waitFor();
    await page.getByRole('heading', { name: 'Acme Billing', level: 1 }).waitFor();
    failing = false;
    await endpoints.getByRole('button', { name: 'Retry' }).click();
    await endpoints.getByRole('link', { name: `${receiver.url}/hooks` }).waitFor();
    assertClean(problems);
    await context.close();
  });

  test('axe finds no serious or critical violation; screenshots in both themes and at phone width', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const targets: Array<[string, string]> = [
      ['overview', '/ui/'],
      ['applications', '/ui/apps'],
      ['application', pages['application'] as string],
      ['endpoint', pages['endpoint'] as string],
      ['explorer', '/ui/messages'],
      ['message', pages['message'] as string],
      ['attempt', pages['attempt'] as string],
      ['event-types', '/ui/event-types'],
      ['live', '/ui/live'],
    ];
    for (const scheme of ['light', 'dark'] as const) {
      const context = await newContext(browser, { colorScheme: scheme });
      const page = await context.newPage();
      const problems = watch(page);
      await signIn(page);
      for (const [name, path] of targets) {
        await page.goto(`${base}${path}`);
        await settled(page);
        // Every WCAG A/AA rule in the light theme; the dark theme changes only colours, so only contrast there.
        const axe = new AxeBuilder({ page });
        const results = await (scheme === 'light'
          ? axe.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
          : axe.withRules(['color-contrast'])
        ).analyze();
        const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(
          serious.map((v) => `${v.id}: ${v.nodes.map((node) => node.target.join(' ')).join(', ')}`),
          [],
          `${name} (${scheme})`,
        );
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${scheme}.png`), fullPage: true });
      }
      assertClean(problems);
      await context.close();
    }
    // Phone width: no page scrolls sideways.
    const phone = await newContext(browser, { width: 390 });
    const page = await phone.newPage();
    await signIn(page);
    for (const [name, path] of targets) {
      await page.goto(`${base}${path}`);
      await settled(page);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(overflow <= 0, `${name} is ${overflow}px wider than a phone screen`);
      if (name === 'overview' || name === 'endpoint')
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
    }
    await phone.close();
  });

  test('first-load JavaScript of every page stays under the budget', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const report: string[] = [];
    for (const path of [
      '/ui/',
      '/ui/apps',
      pages['endpoint'] as string,
      '/ui/messages',
      pages['attempt'] as string,
    ]) {
      const html = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
      const scripts = new Set([
        ...[...html.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1] as string),
        ...[...html.matchAll(/<link rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1] as string),
      ]);
      let gzip = 0;
      let brotli = 0;
      for (const src of scripts) {
        // The bytes on the wire: content-length of the encoded file (fetch would hand back decoded bytes).
        const gz = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(gz.headers.get('content-encoding'), 'gzip', src);
        gzip += Number(gz.headers.get('content-length'));
        await gz.arrayBuffer();
        const br = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'br' } });
        assert.equal(br.headers.get('content-encoding'), 'br', src);
        brotli += Number(br.headers.get('content-length'));
        await br.arrayBuffer();
      }
      report.push(
        `${path}: ${(gzip / 1024).toFixed(1)} KB gzip, ${(brotli / 1024).toFixed(1)} KB brotli (${scripts.size} files)`,
      );
      assert.ok(
        gzip < JS_BUDGET_BYTES,
        `${path}: ${gzip} bytes of first-load JS (gzip) exceeds ${JS_BUDGET_BYTES}`,
      );
    }
    process.stdout.write(
      `# first-load JavaScript (budget ${JS_BUDGET_BYTES / 1024} KB gzip)\n# ${report.join('\n# ')}\n`,
    );
    await context.close();
  });
});
