import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { createProductionUi, type UiRuntime } from '../../src/ui/ui-runtime.ts';
import { themeCss, themeFrom } from '../../web/features/portal/theme.ts';
import { backends, type TestStorage } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/pipeline.ts';

/**
 * The App Portal's server side without a browser: framing allowed for /portal only (and narrowed by
 * HOOKYARD_PORTAL_FRAME_ANCESTORS), server rendering with a portal token, and confinement: every
 * portal route with another application's ids answers 404 and shows nothing of it.
 */
const TOKEN = 'portal-routes-admin-token-0123456789';
let storage: TestStorage;
let ui: UiRuntime;
let app: FastifyInstance;
let narrowed: FastifyInstance;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await app.inject({
    method: method as 'GET',
    url: `/api/v1${path}`,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  assert.ok(response.statusCode < 300, `${method} ${path}: ${response.body}`);
  return JSON.parse(response.body) as T;
}

before(async () => {
  const [sqlite] = backends();
  if (!sqlite) throw new Error('no SQLite backend');
  storage = await sqlite.create({ portalFrameAncestors: '' });
  const made = await createProductionUi();
  if (!made) throw new Error('the dashboard is not built and cannot be built here');
  ui = made;
  const deps = { storage, logger: silentLogger, adminTokenHash: hashToken(TOKEN), ui };
  app = await buildApp({ ...deps, config: { ...storage.config, portalFrameAncestors: ['*'] } });
  narrowed = await buildApp({
    ...deps,
    config: {
      ...storage.config,
      portalFrameAncestors: ['https://app.example.com', 'https://admin.example.com'],
    },
  });
  await Promise.all([app.ready(), narrowed.ready()]);
});
after(async () => {
  await app.close();
  await narrowed.close();
  await ui.close();
  await storage.cleanup();
});

describe('App Portal routes', () => {
  test('the portal may be framed by any site (or the configured ones); the dashboard never', async () => {
    const portal = await app.inject({ url: '/portal/' });
    assert.equal(portal.statusCode, 200);
    const csp = String(portal.headers['content-security-policy']);
    assert.match(csp, /frame-ancestors \*/);
    assert.equal(portal.headers['x-frame-options'], undefined);
    assert.match(csp, /script-src 'nonce-[^']+' 'strict-dynamic'/);
    assert.equal(portal.headers['cache-control'], 'no-store');
    const visible = portal.body.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ');
    assert.doesNotMatch(visible, /Hookyard/i, 'no branding in the frame');

    const limited = await narrowed.inject({ url: '/portal/' });
    assert.match(
      String(limited.headers['content-security-policy']),
      /frame-ancestors https:\/\/app\.example\.com https:\/\/admin\.example\.com(;|$)/,
    );
    for (const path of ['/ui/login', '/ui/']) {
      const dashboard = await app.inject({ url: path });
      assert.match(String(dashboard.headers['content-security-policy']), /frame-ancestors 'none'/, path);
      assert.equal(dashboard.headers['x-frame-options'], 'DENY', path);
    }
    const bare = await app.inject({ url: '/portal' });
    assert.equal(bare.statusCode, 200);
    assert.match(String(bare.headers['content-security-policy']), /frame-ancestors \*/);
  });

  test("with a portal token every page renders its own application and 404s another's", async () => {
    await call('POST', '/event-type', { name: 'order.shipped', description: 'An order left the warehouse' });
    const ids: Record<string, { app: string; endpoint: string; msg: string }> = {};
    for (const uid of ['mine', 'theirs']) {
      const created = await call<{ id: string }>('POST', '/app', { name: `App ${uid}`, uid });
      const endpoint = await call<{ id: string }>('POST', `/app/${uid}/endpoint`, {
        url: `https://example.com/${uid}-receiver`,
        description: `${uid} endpoint`,
      });
      const msg = await call<{ id: string }>('POST', `/app/${uid}/msg`, {
        eventType: 'order.shipped',
        payload: { owner: `${uid}-payload` },
      });
      ids[uid] = { app: created.id, endpoint: endpoint.id, msg: msg.id };
    }
    const mine = ids['mine'] as (typeof ids)[string];
    const theirs = ids['theirs'] as (typeof ids)[string];
    const { token } = await call<{ token: string }>('POST', '/auth/app-portal-access/mine', {});
    const page = (path: string) => app.inject({ url: path, headers: { authorization: `Bearer ${token}` } });

    const own: [string, string][] = [
      ['/portal/', 'https://example.com/mine-receiver'],
      [`/portal/apps/${mine.app}`, 'https://example.com/mine-receiver'],
      [`/portal/apps/${mine.app}/endpoints/${mine.endpoint}`, 'mine endpoint'],
      [`/portal/apps/${mine.app}/messages`, mine.msg],
      [`/portal/apps/${mine.app}/messages/${mine.msg}`, 'mine-payload'],
      [`/portal/apps/${mine.app}/event-types`, 'An order left the warehouse'],
    ];
    for (const [path, text] of own) {
      const response = await page(path);
      assert.equal(response.statusCode, 200, path);
      assert.ok(response.body.includes(text), `${path} shows ${text}`);
      assert.ok(!response.body.includes('theirs'), `${path} shows nothing of the other application`);
    }

    // Every portal route with the other application's ids, by id and by uid, and mixed with ours.
    const foreign = [
      `/portal/apps/${theirs.app}`,
      '/portal/apps/theirs',
      `/portal/apps/${theirs.app}/endpoints/${theirs.endpoint}`,
      `/portal/apps/${mine.app}/endpoints/${theirs.endpoint}`,
      `/portal/apps/${theirs.app}/messages`,
      `/portal/apps/theirs/messages/${theirs.msg}`,
      `/portal/apps/${mine.app}/messages/${theirs.msg}`,
      `/portal/apps/${theirs.app}/messages/${theirs.msg}/attempts/atmpt_2vDPdBQbe8spYQ8QWA3pYGN9ZuA`,
      `/portal/apps/${theirs.app}/event-types`,
      '/portal/apps/does-not-exist',
    ];
    for (const path of foreign) {
      const response = await page(path);
      assert.equal(response.statusCode, 404, path);
      for (const secret of ['theirs-receiver', 'theirs endpoint', 'theirs-payload', 'App theirs'])
        assert.ok(!response.body.includes(secret), `${path} leaks ${secret}`);
    }

    // An invalid token is refused; the admin token is no portal session.
    for (const bearer of [`${token}x`, TOKEN]) {
      const response = await app.inject({ url: '/portal/', headers: { authorization: `Bearer ${bearer}` } });
      assert.equal(response.statusCode, 401);
    }
  });

  test('theme values from the query or metadata are checked before they reach the style sheet', () => {
    const theme = themeFrom(
      new URLSearchParams({
        darkMode: 'true',
        primaryColor: 'FF5500',
        fontFamily: 'Inter',
        icon: 'https://cdn.example.com/logo.png',
      }),
    );
    assert.deepEqual(theme, {
      mode: 'dark',
      primaryColor: '#ff5500',
      fontFamily: 'Inter',
      icon: 'https://cdn.example.com/logo.png',
      title: null,
    });
    assert.equal(
      themeCss(theme),
      ':root:root:root{--accent:#ff5500;--focus:#ff5500;--accent-text:#000000;--portal-font:"Inter", system-ui, sans-serif}',
    );
    const hostile = themeFrom(
      new URLSearchParams({
        darkMode: 'auto',
        primaryColor: 'red;}</style><script>',
        fontFamily: 'x"}body{display:none',
        icon: 'javascript:alert(1)',
      }),
      { 'portal.primaryColor': '#123', 'portal.icon': 'http://insecure.example/logo.png' },
    );
    assert.deepEqual(hostile, {
      mode: 'auto',
      primaryColor: '#123',
      fontFamily: null,
      icon: null,
      title: null,
    });
    assert.equal(themeFrom(new URLSearchParams()).mode, 'light');
    assert.equal(themeFrom(new URLSearchParams({ primaryColor: '#2454c7' })).primaryColor, '#2454c7');
  });
});
