import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Frame, Page } from 'playwright-core';
import { configWith } from '../../src/config/load.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { silentLogger } from '../helpers/pipeline.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { chromiumMissing, launchChromium, newContext, type PageProblems, watch } from './browser.ts';

/**
 * The App Portal in real Chromium: embedded in a page of another site (`localhost` vs `127.0.0.1`,
 * so a cross-site iframe with no third-party cookies or storage) exactly as svix-react's `<AppPortal>`
 * embeds it, the customer's flow inside it, its theme and resize messages, capabilities in the UI,
 * accessibility, phone width, the first-load JavaScript budget, and the Svix JS SDK from a browser
 * page of another origin with a portal token (CORS).
 */
const TOKEN = 'portal-test-admin-token-0123456789';
const JS_BUDGET_BYTES = 120 * 1024;
const SCREENSHOTS = process.env['HOOKYARD_UPDATE_SCREENSHOTS']
  ? new URL('../../docs/screenshots/', import.meta.url).pathname
  : join(tmpdir(), 'hookyard-screenshots');
const skip = chromiumMissing();

/** What svix-react's `<AppPortal>` does (svix-react 1.x): the options as query parameters, the
 * iframe, and the height from the portal's `svix.iframe-resizer-height` messages (fullSize). */
const HOST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Customer dashboard</title></head>
<body>
<h1>Acme settings</h1>
<div id="portal"></div>
<script>
window.heights = [];
function AppPortal(props) {
  const url = new URL(props.url);
  if (props.darkMode) url.searchParams.set('darkMode', 'true');
  if (props.primaryColor) url.searchParams.set('primaryColor', props.primaryColor.replace('#', ''));
  if (props.fontFamily) url.searchParams.set('fontFamily', props.fontFamily);
  if (props.icon) url.searchParams.set('icon', props.icon);
  const iframe = document.createElement('iframe');
  iframe.src = url.href;
  iframe.title = 'Svix Management UI';
  iframe.allow = 'clipboard-write';
  iframe.style.width = '100%';
  iframe.style.border = 'none';
  iframe.style.height = props.fullSize ? '0px' : '100%';
  window.addEventListener('message', (event) => {
    if (event.source !== iframe.contentWindow) return;
    if (event.data && event.data.type === 'svix.iframe-resizer-height' && props.fullSize) {
      window.heights.push(event.data.payload.height);
      iframe.style.height = event.data.payload.height + 'px';
    }
  });
  return iframe;
}
const params = new URLSearchParams(location.search);
document.getElementById('portal').append(AppPortal({
  url: params.get('url'),
  fullSize: true,
  darkMode: params.get('dark') === '1',
  primaryColor: params.get('primaryColor') || undefined,
  fontFamily: params.get('fontFamily') || undefined,
}));
</script>
</body></html>`;

interface BrowserGlobals {
  document: { documentElement: { scrollWidth: number; dataset: Record<string, string> }; body: unknown };
  getComputedStyle(element: unknown): { getPropertyValue(name: string): string; fontFamily: string };
  innerWidth: number;
  heights: number[];
}

describe('App Portal in Chromium', { skip }, () => {
  let server: RunningServer;
  let base: string;
  let host: Server;
  let hostBase: string;
  let receiver: Receiver;
  let browser: Browser;
  let dataDir: string;
  let svixBundle = '';

  async function api<T>(method: string, path: string, body?: unknown, token = TOKEN): Promise<T> {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  const link = (app: string, body: object = {}) =>
    api<{ url: string; token: string }>('POST', `/auth/app-portal-access/${app}`, body);

  /** The host page on the other site, embedding the portal link. */
  async function embed(page: Page, url: string, options: Record<string, string> = {}): Promise<Frame> {
    const query = new URLSearchParams({ url, ...options });
    await page.goto(`${hostBase}/host.html?${query}`);
    const handle = await page.waitForSelector('iframe');
    const frame = await handle.contentFrame();
    assert.ok(frame);
    await frame.waitForSelector('html[data-hydrated]');
    return frame;
  }

  /** Leaves out the expected failed loads (a logo that does not exist, a refused request). */
  function drop(problems: PageProblems, text: string): void {
    const kept = problems.list.filter((line) => !line.includes(text));
    problems.list.splice(0, problems.list.length, ...kept);
  }

  function assertClean(problems: PageProblems): void {
    assert.deepEqual(problems.list, [], 'no console errors, warnings or page errors');
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hookyard-portal-'));
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
    base = (server.url as string).replace('localhost', '127.0.0.1');
    // The Svix JS SDK as a browser script (its package is CommonJS): bundled once with Vite.
    const { build } = await import('vite');
    const work = mkdtempSync(join(tmpdir(), 'hookyard-svix-bundle-'));
    // The SDK reads `process.version` for its User-Agent; a browser has no `process`.
    writeFileSync(
      join(work, 'entry.js'),
      "import { Svix } from 'svix';\nglobalThis.process ??= { env: {} };\nglobalThis.Svix = Svix;\n",
    );
    await build({
      root: work,
      logLevel: 'silent',
      configFile: false,
      resolve: {
        alias: { svix: new URL('../../node_modules/svix/dist/index.js', import.meta.url).pathname },
      },
      build: {
        outDir: join(work, 'out'),
        lib: {
          entry: join(work, 'entry.js'),
          formats: ['iife'],
          name: 'SvixBundle',
          fileName: () => 'svix.js',
        },
        minify: false,
      },
    });
    svixBundle = readFileSync(join(work, 'out', 'svix.js'), 'utf8');
    rmSync(work, { recursive: true, force: true });
    host = createServer((request, response) => {
      if (request.url?.startsWith('/host.html')) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HOST_PAGE);
      } else if (request.url === '/svix.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(svixBundle);
      } else if (request.url === '/sdk.html') {
        response
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>SDK</title><script src="/svix.js"></script>');
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    // Another site: localhost, where the portal is 127.0.0.1.
    hostBase = `http://localhost:${(host.address() as AddressInfo).port}`;
    browser = await launchChromium();

    await api('POST', '/event-type', {
      name: 'invoice.paid',
      description: 'An invoice was paid in full.',
      schemas: {
        '1': {
          type: 'object',
          properties: { invoice: { type: 'string' }, amount: { type: 'integer' } },
          examples: [{ invoice: 'inv_1', amount: 1200 }],
        },
      },
    });
    await api('POST', '/app', { name: 'Acme', uid: 'acme' });
    await api('POST', '/app', { name: 'Globex', uid: 'globex' });
    await api('POST', '/app/globex/endpoint', {
      url: `${receiver.url}/globex`,
      description: 'Globex secret endpoint',
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await new Promise((resolve) => host?.close(resolve));
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('embedded cross-site as svix-react does: the customer flow, resize messages, theme', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watch(page);
    const { url } = await link('acme');
    const frame = await embed(page, url);

    await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    assert.equal(new URL(frame.url()).hash, '', 'the one-time key left the address');
    assert.ok(!(await frame.content()).includes('Globex'), 'nothing of another application');
    // The frame told its parent its height, and the parent resized the iframe to it.
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).heights.some((h) => h > 200));
    const first = await page.evaluate(() => (globalThis as unknown as BrowserGlobals).heights.at(-1) ?? 0);
    const box = await (await page.$('iframe'))?.boundingBox();
    assert.equal(Math.round(box?.height ?? 0), first);

    // Add an endpoint; its page opens (and is taller: a new height is posted).
    await frame.getByLabel('Endpoint URL').fill(`${receiver.url}/acme`);
    await frame.getByLabel('Description').fill('Billing receiver');
    await frame.getByRole('button', { name: 'Add endpoint' }).click();
    await frame.getByRole('heading', { name: `${receiver.url}/acme`, level: 1 }).waitFor();
    await page.waitForFunction(
      (before) => (globalThis as unknown as BrowserGlobals).heights.some((h) => h > before),
      first,
    );

    // Subscribe to an event type from the catalog (its description is shown), set a rate limit.
    await frame.getByLabel(/invoice\.paid/).check();
    await frame.getByText('An invoice was paid in full.').first().waitFor();
    await frame.getByLabel('Rate limit (per second, empty = none)').fill('25');
    await frame.getByLabel('Channels (comma-separated, empty = all)').fill('billing');
    await frame.getByRole('button', { name: 'Save endpoint' }).click();
    await frame.getByText('Saved.').first().waitFor();
    await frame.getByLabel('Headers sent with every request (JSON object)').fill('{"x-customer": "acme"}');
    await frame.getByRole('button', { name: 'Save headers' }).click();
    await frame.getByText('Saved.').nth(1).waitFor();
    const endpointId = new URL(frame.url()).pathname.split('/').pop() as string;
    const saved = await api<{ filterTypes: string[]; rateLimit: number; channels: string[] }>(
      'GET',
      `/app/acme/endpoint/${endpointId}`,
    );
    assert.deepEqual(
      [saved.filterTypes, saved.rateLimit, saved.channels],
      [['invoice.paid'], 25, ['billing']],
    );

    // Reveal, copy and rotate the secret.
    await frame.getByRole('button', { name: 'Reveal secret' }).click();
    const secret = await frame.locator('code.url').textContent();
    assert.match(secret ?? '', /^whsec_/);
    await frame.getByRole('button', { name: 'Copy secret' }).waitFor();
    await frame.getByRole('button', { name: 'Rotate secret' }).click();
    await frame.getByRole('button', { name: 'Rotate', exact: true }).click();
    await frame.getByText('Rotated.').waitFor();

    // Send an example event and watch its attempt arrive; see the request and response; resend.
    await frame.getByRole('button', { name: 'Send test event' }).click();
    const sent = frame.getByRole('status').filter({ hasText: 'Sent' }).getByRole('link');
    const msgId = (await sent.textContent()) as string;
    await sent.click();
    await frame.getByRole('heading', { name: msgId, level: 1 }).waitFor();
    await receiver.waitFor(() => (receiver.counts.get(msgId) ?? 0) >= 1);
    const attemptLink = frame.getByRole('region', { name: 'Attempts' }).getByRole('link').first();
    await attemptLink.waitFor();
    await attemptLink.click();
    await frame.getByRole('heading', { name: 'Request as signed' }).waitFor();
    await frame.getByText('Response body (as stored)').waitFor();
    await frame.getByRole('cell', { name: 'x-customer' }).waitFor();
    await frame.getByRole('button', { name: 'Resend' }).click();
    await receiver.waitFor(() => (receiver.counts.get(msgId) ?? 0) >= 2);

    // Message log and event catalog.
    await frame.getByRole('navigation').getByRole('link', { name: 'Messages' }).click();
    await frame.getByRole('link', { name: msgId }).waitFor();
    await frame.getByRole('link', { name: 'Event catalog' }).click();
    await frame.getByRole('heading', { name: 'invoice.paid' }).waitFor();
    await frame.getByText('"inv_1"').first().waitFor();

    // Recover failed messages since a date; then disable and delete the endpoint.
    await frame.getByRole('navigation').getByRole('link', { name: 'Endpoints' }).click();
    await frame.getByRole('link', { name: `${receiver.url}/acme` }).click();
    // Recovery reaches back a limited time (as in Svix): since yesterday.
    await frame
      .getByLabel('Failed since')
      .fill(`${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}T00:00`);
    await frame.getByRole('button', { name: 'Recover' }).click();
    await frame.getByText('Failed deliveries re-queued.').waitFor();
    await frame.getByText('Success rate').waitFor();
    await frame.getByRole('button', { name: 'Disable endpoint' }).click();
    await frame.getByRole('button', { name: 'Disable', exact: true }).click();
    await frame.getByRole('button', { name: 'Enable endpoint' }).click();
    await frame.getByRole('button', { name: 'Disable endpoint' }).waitFor();

    // No Hookyard branding anywhere in the portal.
    assert.doesNotMatch(await frame.locator('body').innerText(), /hookyard/i);
    assertClean(problems);
    await context.close();
  });

  test('theme from the query (svix-react options) and from the application settings', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watch(page);
    const frame = await embed(page, (await link('acme')).url, {
      dark: '1',
      primaryColor: '#e5484d',
      fontFamily: 'Inter',
    });
    await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    const style = await frame.evaluate(() => {
      const g = globalThis as unknown as BrowserGlobals;
      const root = g.getComputedStyle(g.document.documentElement);
      return {
        theme: g.document.documentElement.dataset['theme'],
        accent: root.getPropertyValue('--accent').trim(),
        bg: root.getPropertyValue('--bg').trim(),
        font: g.getComputedStyle(g.document.body).fontFamily,
      };
    });
    assert.deepEqual(style, {
      theme: 'dark',
      accent: '#e5484d',
      bg: '#121417',
      font: 'Inter, system-ui, sans-serif',
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-embedded-dark.png'), fullPage: true });

    // From the application's metadata: colour, title and logo, light.
    await api('PATCH', '/app/acme', {
      metadata: {
        'portal.primaryColor': '0f766e',
        'portal.title': 'Acme webhooks',
        'portal.icon': '/portal-logo.svg',
      },
    });
    const themed = await embed(page, (await link('acme')).url);
    await themed.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await themed.getByText('Acme webhooks').first().waitFor();
    const accent = await themed.evaluate(() => {
      const g = globalThis as unknown as BrowserGlobals;
      return g.getComputedStyle(g.document.documentElement).getPropertyValue('--accent').trim();
    });
    assert.equal(accent, '#0f766e');
    await api('PATCH', '/app/acme', { metadata: {} });
    drop(problems, '404 (Not Found)'); // the logo path does not exist on this server
    assertClean(problems);
    await context.close();
  });

  test('a read-only link shows no changes; a used link, expire-all and another application are refused', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const { url } = await link('acme', { readOnly: true });
    const frame = await embed(page, url);
    await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    assert.equal(await frame.getByRole('button', { name: 'Add endpoint' }).count(), 0);
    await frame.getByRole('link', { name: `${receiver.url}/acme` }).click();
    await frame.getByRole('heading', { name: `${receiver.url}/acme`, level: 1 }).waitFor();
    for (const name of [
      'Reveal secret',
      'Rotate secret',
      'Delete endpoint',
      'Save endpoint',
      'Send test event',
    ])
      assert.equal(await frame.getByRole('button', { name }).count(), 0, name);

    // Typing another application's id into the portal's address shows nothing of it.
    const globex = await api<{ data: { id: string }[] }>('GET', '/app/globex/endpoint');
    await frame.goto(`${base}/portal/apps/globex/endpoints/${globex.data[0]?.id}`);
    await frame.getByRole('alert').filter({ hasText: 'Open this page through the link' }).waitFor();

    // The same link again (a reload of the frame after its key was used) is refused, politely.
    const reused = await embed(page, url);
    await reused.getByText('opened already or has expired').waitFor();

    // Expire-all ends the open session: the next request says so.
    const live = await embed(page, (await link('acme')).url);
    await live.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
    await api('POST', '/auth/app/acme/expire-all', {});
    await live.getByRole('navigation').getByRole('link', { name: 'Messages' }).click();
    await live.getByText('Your session has ended').waitFor();
    await context.close();
  });

  test('the Svix JS SDK works from a page of another origin with a portal token (CORS)', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watch(page);
    const { token } = await link('acme');
    await page.goto(`${hostBase}/sdk.html`);
    const result = await page.evaluate(
      async ({ token, serverUrl }) => {
        const { Svix } = globalThis as unknown as {
          Svix: new (
            token: string,
            options: { serverUrl: string },
          ) => {
            endpoint: {
              list(app: string): Promise<{ data: { url: string }[] }>;
              create(app: string, body: { url: string }): Promise<{ id: string }>;
            };
            application: { get(app: string): Promise<{ name: string }> };
            eventType: { list(): Promise<{ data: { name: string }[] }> };
          };
        };
        const svix = new Svix(token, { serverUrl });
        const app = await svix.application.get('acme');
        const created = await svix.endpoint.create('acme', { url: 'https://example.com/from-the-browser' });
        const endpoints = await svix.endpoint.list('acme');
        const types = await svix.eventType.list();
        let other = 'reachable';
        try {
          await svix.endpoint.list('globex');
        } catch (error) {
          other = String((error as { code?: number }).code);
        }
        return {
          name: app.name,
          created: created.id,
          count: endpoints.data.length,
          types: types.data.length,
          other,
        };
      },
      { token, serverUrl: base },
    );
    assert.equal(result.name, 'Acme');
    assert.match(result.created, /^ep_/);
    assert.ok(result.count >= 2);
    assert.equal(result.types, 1);
    assert.equal(result.other, '404');
    drop(problems, '404');
    assertClean(problems);
    await context.close();
  });

  test('accessible (axe), keyboard navigable, phone width, screenshots, JS budget', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const report: string[] = [];
    // Each page opened at the top level with the token (rendered on the server with its data), so
    // axe and full-page screenshots see the whole document; the embedded case is covered above.
    for (const scheme of ['light', 'dark'] as const) {
      const context = await newContext(browser, { colorScheme: scheme });
      const { token } = await link('acme');
      await context.setExtraHTTPHeaders({ authorization: `Bearer ${token}` });
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(`${base}/portal/${scheme === 'dark' ? '?darkMode=true' : ''}`);
      await page.waitForSelector('html[data-hydrated]');
      await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
      const targets: [string, () => Promise<void>][] = [
        ['endpoints', async () => {}],
        [
          'endpoint',
          async () => {
            await page.getByRole('link', { name: `${receiver.url}/acme` }).click();
            await page.getByText('Success rate').waitFor();
            await page.waitForFunction(
              () =>
                !(
                  globalThis as unknown as { document: { querySelector(s: string): unknown } }
                ).document.querySelector('.chart-summary'),
            );
          },
        ],
        [
          'catalog',
          async () => {
            await page.getByRole('navigation').getByRole('link', { name: 'Event catalog' }).click();
            await page.getByRole('heading', { name: 'invoice.paid' }).waitFor();
          },
        ],
      ];
      for (const [name, open] of targets) {
        await open();
        const results = await new AxeBuilder({ page })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
          .analyze();
        const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(
          serious.map((v) => `${v.id}: ${v.nodes.map((node) => node.target.join(' ')).join(', ')}`),
          [],
          `${name} (${scheme})`,
        );
        await page.screenshot({ path: join(SCREENSHOTS, `portal-${name}-${scheme}.png`), fullPage: true });
      }
      assertClean(problems);
      await context.close();
    }

    // Keyboard: from the skip link through the navigation to a page, without a mouse.
    {
      const context = await newContext(browser);
      const page = await context.newPage();
      const frame = await embed(page, (await link('acme')).url);
      await frame.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();
      await frame.locator('body').focus();
      await frame.locator('a.skip').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      const focused = await frame.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
            .activeElement.textContent,
      );
      assert.equal(focused, 'Messages');
      await page.keyboard.press('Enter');
      await frame.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
      await context.close();
    }

    // Phone width: nothing wider than the screen.
    {
      const context = await newContext(browser, { width: 390 });
      await context.setExtraHTTPHeaders({ authorization: `Bearer ${(await link('acme')).token}` });
      const page = await context.newPage();
      await page.goto(`${base}/portal/`);
      await page.waitForSelector('html[data-hydrated]');
      await page.getByRole('link', { name: `${receiver.url}/acme` }).click();
      await page.getByText('Success rate').waitFor();
      const widths = await page.evaluate(() => {
        const g = globalThis as unknown as BrowserGlobals;
        return { scroll: g.document.documentElement.scrollWidth, inner: g.innerWidth };
      });
      assert.ok(widths.scroll <= widths.inner + 1, `scrollWidth ${widths.scroll} > ${widths.inner}`);
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-endpoint-phone.png'), fullPage: true });
      await context.close();
    }

    // First-load JavaScript of the portal (the frame without a session, and a page rendered with one).
    const { token } = await link('acme');
    for (const [label, headers] of [
      ['/portal/', {}],
      ['/portal/ (with a session)', { authorization: `Bearer ${token}` }],
    ] as const) {
      const html = await (await fetch(`${base}/portal/`, { headers })).text();
      const scripts = new Set([
        ...[...html.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1] as string),
        ...[...html.matchAll(/<link rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1] as string),
      ]);
      let gzip = 0;
      for (const src of scripts) {
        const gz = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'gzip' } });
        gzip += Number(gz.headers.get('content-length'));
        await gz.arrayBuffer();
      }
      report.push(`${label}: ${(gzip / 1024).toFixed(1)} KB gzip (${scripts.size} files)`);
      assert.ok(gzip > 0 && gzip < JS_BUDGET_BYTES, `${label}: ${gzip} bytes of first-load JS (gzip)`);
    }
    process.stdout.write(`# portal first-load JavaScript (budget 120 KB gzip)\n# ${report.join('\n# ')}\n`);
  });
});
