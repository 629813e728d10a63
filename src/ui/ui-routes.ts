import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatches } from '../domain/tokens.ts';
import type { Logger } from '../log/logger.ts';
import { negotiate } from './assets.ts';
import { createLoginLimiter, type LoginLimiter } from './login-limiter.ts';
import type { ApiTransport } from './render-contract.ts';
import { newNonce, uiSecurityHeaders } from './security-headers.ts';
import { readCookie, SESSION_COOKIE, SESSION_TTL_MS, type SessionStore } from './session-store.ts';
import { UI_BASE, type UiRuntime } from './ui-runtime.ts';

/**
 * The dashboard's HTTP side: `/` → `/ui/`, sign-in and sign-out, the hashed static files, and every
 * other `/ui/*` path rendered on the server by the React entry. Pages read their data through the
 * public API in-process (`app.inject` on /api/v1 with the visitor's own cookie), exactly as the
 * browser does after hydration; there is no other way in.
 */
export interface UiRoutesDeps {
  readonly ui: UiRuntime;
  readonly sessions: SessionStore;
  readonly adminTokenHash: Buffer;
  readonly clock: () => number;
  readonly logger: Logger;
  /** The API's own instance, for in-process calls. */
  readonly api: FastifyInstance;
  readonly apiPrefix: string;
  readonly limiter?: LoginLimiter;
  /** HOOKYARD_PUBLIC_URL: when it is https, the cookie is Secure even if a proxy terminates TLS. */
  readonly publicUrl?: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function sessionCookie(
  request: FastifyRequest,
  value: string,
  maxAgeSeconds: number,
  publicUrl: string | undefined,
): string {
  const https = request.protocol === 'https' || (publicUrl ?? '').startsWith('https://');
  const secure = https ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** Only a path inside the dashboard, so `next` cannot send a signed-in visitor elsewhere. */
function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith(UI_BASE) || value.startsWith('//')) return UI_BASE;
  if (value.startsWith(`${UI_BASE}login`) || /[\\\r\n]/.test(value)) return UI_BASE;
  return value;
}

/** A form post from another origin is refused (login CSRF); browsers send Origin on every POST. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

export function uiRoutes(deps: UiRoutesDeps): FastifyPluginAsync {
  const { ui, sessions, clock } = deps;
  const limiter = deps.limiter ?? createLoginLimiter();

  async function currentSession(request: FastifyRequest) {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!id) return undefined;
    const session = await sessions.get(id, clock());
    return session && { id, session };
  }

  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    options: { csrfToken: string; loginError?: string; status?: number },
  ): Promise<FastifyReply> {
    const nonce = newNonce();
    const cookie = request.headers.cookie;
    const api: ApiTransport = async ({ method, path, body }) => {
      const response = await deps.api.inject({
        method: method as 'GET',
        url: deps.apiPrefix + path,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      const text = response.body;
      return { status: response.statusCode, body: text === '' ? null : JSON.parse(text) };
    };
    const result = await ui.render({
      url: request.url,
      nonce,
      csrfToken: options.csrfToken,
      api,
      assets: ui.assets,
      loginError: options.loginError,
    });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(options.status ?? result.status, {
      ...(reply.getHeaders() as Record<string, string>),
      ...uiSecurityHeaders(nonce, { dev: ui.dev }),
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    request.raw.on('close', () => {
      if (!raw.writableFinished) result.abort();
    });
    result.pipe(raw);
    return reply;
  }

  return async (app) => {
    // Redirects, refusals and static files get the same headers as pages (their CSP allows no script).
    app.addHook('onSend', async (_request, reply, payload) => {
      if (!reply.hasHeader('content-security-policy')) {
        for (const [name, value] of Object.entries(uiSecurityHeaders(newNonce(), { dev: ui.dev })))
          if (!reply.hasHeader(name)) reply.header(name, value);
      }
      return payload;
    });
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );

    app.get('/', async (_request, reply) => reply.redirect(UI_BASE, 302));

    if (ui.files) {
      const files = ui.files;
      app.get('/ui/assets/*', async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        const asset = files.get(path);
        if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('No such file.');
        const { body, encoding } = negotiate(asset, request.headers['accept-encoding']);
        reply
          .header('cache-control', IMMUTABLE)
          .header('vary', 'accept-encoding')
          .header('x-content-type-options', 'nosniff')
          .type(asset.type);
        if (encoding) reply.header('content-encoding', encoding);
        return reply.send(body);
      });
    }
    if (ui.middleware) {
      const middleware = ui.middleware;
      // Vite's own paths in development: transformed modules, its HMR client, React Refresh.
      app.addHook('onRequest', (request, reply, done) => {
        const path = request.url;
        const ours =
          path.startsWith(UI_BASE) &&
          !path.startsWith(`${UI_BASE}login`) &&
          !path.startsWith(`${UI_BASE}logout`) &&
          (path.startsWith(`${UI_BASE}@`) || /\.[a-z0-9]+(\?|$)/i.test(path.split('#')[0] ?? ''));
        if (!ours) return done();
        reply.hijack();
        middleware(request.raw, reply.raw, (error) => {
          if (error) deps.logger.error({ err: error }, 'vite middleware failed');
          reply.raw.statusCode = 404;
          reply.raw.end();
        });
      });
    }

    app.get('/ui/login', async (request, reply) => {
      if (await currentSession(request)) return reply.redirect(UI_BASE, 302);
      return page(request, reply, { csrfToken: '' });
    });

    app.post('/ui/login', async (request, reply) => {
      const address = request.ip;
      const now = clock();
      const body = (request.body ?? {}) as Record<string, unknown>;
      if (!sameOrigin(request))
        return page(request, reply, {
          csrfToken: '',
          status: 403,
          loginError: 'Sign in from this server’s own page.',
        });
      const wait = limiter.retryAfter(address, now);
      if (wait > 0) {
        reply.header('retry-after', String(Math.ceil(wait / 1000)));
        return page(request, reply, {
          csrfToken: '',
          status: 429,
          loginError: `Too many wrong tokens from your address. Try again in ${Math.ceil(wait / 1000)} seconds.`,
        });
      }
      const token = typeof body['token'] === 'string' ? body['token'].trim() : '';
      const valid = token !== '' && tokenMatches(token, deps.adminTokenHash);
      if (!valid) {
        limiter.fail(address, now);
        deps.logger.warn({ ip: address }, 'dashboard sign-in with a wrong token');
        return page(request, reply, {
          csrfToken: '',
          status: 401,
          loginError:
            token === ''
              ? 'Enter the admin token.'
              : 'That is not the admin token. Use the token printed at first start, or HOOKYARD_ADMIN_TOKEN.',
        });
      }
      limiter.succeed(address);
      const { id } = await sessions.create(now);
      return reply
        .header('set-cookie', sessionCookie(request, id, Math.floor(SESSION_TTL_MS / 1000), deps.publicUrl))
        .redirect(safeNext(body['next']), 303);
    });

    app.post('/ui/logout', async (request, reply) => {
      const current = await currentSession(request);
      const body = (request.body ?? {}) as Record<string, unknown>;
      // The form carries the session's CSRF token: another site cannot sign the visitor out either.
      if (current && sameOrigin(request) && body['csrf'] === current.session.csrfToken)
        await sessions.revoke(current.id);
      else if (current)
        return reply.code(403).type('text/plain; charset=utf-8').send('Sign out from the dashboard.');
      return reply
        .header('set-cookie', sessionCookie(request, '', 0, deps.publicUrl))
        .redirect(`${UI_BASE}login`, 303);
    });

    async function renderPage(request: FastifyRequest, reply: FastifyReply) {
      const current = await currentSession(request);
      if (!current) {
        const next = encodeURIComponent(request.url);
        const home = request.url === UI_BASE || request.url === '/ui';
        return reply.redirect(`${UI_BASE}login${home ? '' : `?next=${next}`}`, 302);
      }
      return page(request, reply, { csrfToken: current.session.csrfToken });
    }
    // The router ignores trailing slashes (as the API must), so `/ui/` is the `/ui` route.
    app.get('/ui', renderPage);
    app.get('/ui/*', renderPage);
  };
}
