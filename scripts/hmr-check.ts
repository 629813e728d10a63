/**
 * Checks hot module replacement end to end: starts Hookyard with the dashboard in development mode
 * (`--dashboard dev`, what `npm run dev` runs) on a temp database, signs in with Chromium, edits a
 * component on disk, and expects the open page to show the edit without a full reload (a marker set
 * on `window` before the edit must survive). The component is restored afterwards, whatever happens.
 *
 *     npm run test:hmr
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/server-process.ts';
import { launchChromium, newContext, watch } from '../test/ui/browser.ts';

const TOKEN = 'hmr-check-admin-token-0123456789';
const COMPONENT = new URL('../web/features/live/live-page.tsx', import.meta.url).pathname;
const BEFORE = 'Start the live tail to follow traffic as it happens.';
const AFTER = 'Start the live tail to follow traffic as it happens (edited while the page was open).';

const dataDir = mkdtempSync(join(tmpdir(), 'hookyard-hmr-'));
const port = await freePort();
const original = readFileSync(COMPONENT, 'utf8');
if (!original.includes(BEFORE)) throw new Error(`${COMPONENT} no longer contains the text this check edits`);

const server = spawn(process.execPath, ['src/cli/hookyard.mjs', 'serve', '--dashboard', 'dev'], {
  cwd: new URL('../', import.meta.url).pathname,
  env: {
    ...process.env,
    HOOKYARD_DATA_DIR: dataDir,
    HOOKYARD_ADMIN_TOKEN: TOKEN,
    HOOKYARD_PORT: String(port),
    HOOKYARD_HOST: '127.0.0.1',
    HOOKYARD_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
const browser = await launchChromium();
let failure: unknown;
try {
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${base}/api/v1/health/ping`)).status === 204) break;
    } catch {}
    if (tries > 200) throw new Error('the dev server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const context = await newContext(browser);
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${base}/ui/login`);
  await page.getByLabel('Admin token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/ui/');
  await page.goto(`${base}/ui/live`);
  await page.getByText(BEFORE).waitFor();
  await page.waitForSelector('html[data-hydrated]');
  await page.evaluate(() => {
    (globalThis as { __hmrMarker?: string }).__hmrMarker = 'still here';
  });

  const started = Date.now();
  writeFileSync(COMPONENT, original.replace(BEFORE, AFTER));
  await page.getByText(AFTER).waitFor({ timeout: 30_000 });
  const marker = await page.evaluate(() => (globalThis as { __hmrMarker?: string }).__hmrMarker);
  if (marker !== 'still here') throw new Error('the page reloaded instead of hot-replacing the component');
  const unexpected = problems.list.filter((line) => !/\[vite\]/.test(line));
  if (unexpected.length > 0) throw new Error(`console errors during HMR:\n${unexpected.join('\n')}`);
  process.stdout.write(`hmr: the edit showed in ${Date.now() - started} ms without a reload\n`);
} catch (error) {
  failure = error;
} finally {
  writeFileSync(COMPONENT, original);
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
if (failure) {
  process.stderr.write(`hmr: FAILED: ${failure instanceof Error ? failure.message : String(failure)}\n`);
  process.exit(1);
}
