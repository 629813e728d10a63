import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { createProductionUi, type UiRuntime } from '../../src/ui/ui-runtime.ts';
import { backends, type TestStorage } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/pipeline.ts';

/**
 * The dashboard's HTTP side without a browser: entry redirects, sign-in and its cookie, CSRF on
 * cookie-authenticated API changes, the wrong-token limiter, security headers, and the static files
 * (hashed, immutable, precompressed).
 */
const TOKEN = 'ui-routes-admin-token-0123456789';
let storage: TestStorage;
let ui: UiRuntime;
let app: FastifyInstance;

before(async () => {
  const [sqlite] = backends();
  if (!sqlite) throw new Error('no SQLite backend');
  storage = await sqlite.create();
  const made = await createProductionUi();
  if (!made) throw new Error('the dashboard is not built and cannot be built here');
  ui = made;
  app = await buildApp({
    config: storage.config,
    storage,
    logger: silentLogger,
    adminTokenHash: hashToken(TOKEN),
    ui,
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await ui.close();
  await storage.cleanup();
});

async function signIn(remoteAddress = '127.0.0.1'): Promise<{ cookie: string; csrf: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/ui/login',
    remoteAddress,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'localhost',
      origin: 'http://localhost',
    },
    payload: `token=${TOKEN}&next=%2Fui%2Fapps`,
  });
  assert.equal(response.statusCode, 303);
  assert.equal(response.headers.location, '/ui/apps');
  const setCookie = String(response.headers['set-cookie']);
  assert.match(
    setCookie,
    /^hookyard_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
  );
  assert.doesNotMatch(setCookie, new RegExp(TOKEN));
  const cookie = setCookie.split(';')[0] as string;
  const page = await app.inject({ method: 'GET', url: '/ui/apps', headers: { cookie } });
  const csrf = /"csrfToken":"([^"]+)"/.exec(page.body)?.[1];
  assert.ok(csrf, 'the page carries the CSRF token');
  return { cookie, csrf };
}

test('/ goes to the dashboard, which sends a visitor without a session to sign in', async () => {
  const root = await app.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, '/ui/');
  const ui = await app.inject({ method: 'GET', url: '/ui/' });
  assert.equal(ui.statusCode, 302);
  assert.equal(ui.headers.location, '/ui/login');
  const deep = await app.inject({ method: 'GET', url: '/ui/messages?status=2' });
  assert.equal(deep.headers.location, '/ui/login?next=%2Fui%2Fmessages%3Fstatus%3D2');
  const login = await app.inject({ method: 'GET', url: '/ui/login' });
  assert.equal(login.statusCode, 200);
  assert.match(login.body, /<label for="token">Admin token<\/label>/);
});

test('every dashboard response carries a nonce CSP, nosniff, a referrer policy and refuses framing', async () => {
  const { cookie } = await signIn();
  for (const url of ['/', '/ui/login', '/ui/', '/ui/apps', '/ui/nowhere']) {
    const response = await app.inject({ method: 'GET', url, headers: { cookie } });
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/, url);
    assert.match(csp, /frame-ancestors 'none'/, url);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, url);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(response.headers['referrer-policy'], 'same-origin', url);
    assert.equal(response.headers['x-frame-options'], 'DENY', url);
    if (response.statusCode === 200 || response.statusCode === 404) {
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      // Every script element carries this response's nonce, and there are no inline handlers.
      for (const tag of response.body.match(/<script[^>]*>/g) ?? []) {
        if (!tag.includes('application/json')) assert.ok(tag.includes(`nonce="${nonce}"`), `${url}: ${tag}`);
      }
      assert.doesNotMatch(response.body, /\son[a-z]+="/, url);
    }
  }
  const notFound = await app.inject({ method: 'GET', url: '/ui/nowhere', headers: { cookie } });
  assert.equal(notFound.statusCode, 404);
});

test('a cookie session reads the API; changes need the page CSRF token', async () => {
  const { cookie, csrf } = await signIn();
  const read = await app.inject({ method: 'GET', url: '/api/v1/app', headers: { cookie } });
  assert.equal(read.statusCode, 200);
  const forged = await app.inject({
    method: 'POST',
    url: '/api/v1/app',
    headers: { cookie },
    payload: { name: 'x' },
  });
  assert.equal(forged.statusCode, 403);
  assert.equal(forged.json().code, 'csrf_failed');
  const wrong = await app.inject({
    method: 'POST',
    url: '/api/v1/app',
    headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}x` },
    payload: { name: 'x' },
  });
  assert.equal(wrong.statusCode, 403);
  const ok = await app.inject({
    method: 'POST',
    url: '/api/v1/app',
    headers: { cookie, 'x-csrf-token': csrf },
    payload: { name: 'Made by the dashboard' },
  });
  assert.equal(ok.statusCode, 201);

  // Signing out (a form carrying the token) ends the session for every process.
  const out = await app.inject({
    method: 'POST',
    url: '/ui/logout',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `csrf=${csrf}`,
  });
  assert.equal(out.statusCode, 303);
  assert.equal(out.headers.location, '/ui/login');
  assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
  assert.equal(
    (await app.inject({ method: 'GET', url: '/api/v1/app', headers: { cookie } })).statusCode,
    401,
  );
  assert.equal((await app.inject({ method: 'GET', url: '/ui/', headers: { cookie } })).statusCode, 302);
});

test('a wrong token gets a clear message; ten in a minute from one address are slowed down', async () => {
  const attempt = (remoteAddress: string, token: string) =>
    app.inject({
      method: 'POST',
      url: '/ui/login',
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(token)}`,
    });
  const first = await attempt('10.9.9.9', 'nope');
  assert.equal(first.statusCode, 401);
  assert.match(first.body, /role="alert"[^>]*>That is not the admin token/);
  for (let i = 0; i < 9; i++) assert.equal((await attempt('10.9.9.9', 'nope')).statusCode, 401);
  const limited = await attempt('10.9.9.9', TOKEN);
  assert.equal(limited.statusCode, 429, 'even the right token waits once the address is limited');
  assert.match(limited.body, /Too many wrong tokens from your address/);
  assert.ok(Number(limited.headers['retry-after']) > 0);
  // Other addresses are not affected.
  assert.equal((await attempt('10.9.9.10', TOKEN)).statusCode, 303);
});

test('the session cookie is Secure when the dashboard is served over https', async () => {
  const secureApp = await buildApp({
    config: { ...storage.config, publicUrl: 'https://hooks.example.com' },
    storage,
    logger: silentLogger,
    adminTokenHash: hashToken(TOKEN),
    ui,
  });
  try {
    const response = await secureApp.inject({
      method: 'POST',
      url: '/ui/login',
      remoteAddress: '10.8.8.8',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${TOKEN}`,
    });
    assert.equal(response.statusCode, 303);
    assert.match(String(response.headers['set-cookie']), /; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  } finally {
    await secureApp.close();
  }
});

test('a sign-in form posted from another origin is refused', async () => {
  const response = await app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'localhost',
      origin: 'https://evil.example',
    },
    payload: `token=${TOKEN}`,
  });
  assert.equal(response.statusCode, 403);
  assert.equal(response.headers['set-cookie'], undefined);
});

test('built files are hashed, immutable and served precompressed', async () => {
  const login = await app.inject({ method: 'GET', url: '/ui/login' });
  const script = /<script type="module" src="(\/ui\/assets\/[^"]+\.js)"/.exec(login.body)?.[1];
  assert.ok(script);
  assert.match(script, /-[A-Za-z0-9_-]{8}\.js$/);
  const br = await app.inject({
    method: 'GET',
    url: script,
    headers: { 'accept-encoding': 'gzip, deflate, br' },
  });
  assert.equal(br.statusCode, 200);
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(br.headers.vary, 'accept-encoding');
  assert.match(String(br.headers['content-type']), /^text\/javascript/);
  const gzip = await app.inject({ method: 'GET', url: script, headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  const plain = await app.inject({ method: 'GET', url: script });
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.rawPayload.length > br.rawPayload.length);
  const missing = await app.inject({ method: 'GET', url: '/ui/assets/nope-12345678.js' });
  assert.equal(missing.statusCode, 404);
});
