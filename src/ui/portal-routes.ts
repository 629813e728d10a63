import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, effectiveCapabilities, type PortalTokens } from '../api/auth.ts';
import type { PortalSessionInfo } from './render-contract.ts';
import { newNonce, portalSecurityHeaders } from './security-headers.ts';
import type { UiRuntime } from './ui-runtime.ts';

/**
 * The App Portal's HTTP side: `/portal/*` rendered by the same React server entry as the dashboard,
 * with headers that allow framing (`HOOKYARD_PORTAL_FRAME_ANCESTORS`) where the dashboard's refuse it.
 *
 * A portal visitor has no cookie (a cross-site iframe gets none): a request without a token renders
 * the frame, and the page opens its session from the link's one-time key in the browser. A request
 * with `Authorization: Bearer <portal token>` is rendered with its data, through the API in-process
 * with that very token, so the API's confinement and capabilities apply to the server render too. An
 * invalid token is 401; the admin token is not a portal session.
 */
export interface PortalRoutesDeps {
  readonly ui: UiRuntime;
  readonly portal: PortalTokens;
  readonly clock: () => number;
  readonly frameAncestors: readonly string[];
  readonly api: FastifyInstance;
  readonly apiPrefix: string;
}

export function portalRoutes(deps: PortalRoutesDeps): FastifyPluginAsync {
  const { ui } = deps;

  async function sessionOf(request: FastifyRequest): Promise<PortalSessionInfo | null | 'invalid'> {
    const token = bearerToken(request);
    if (token === undefined) return null;
    const principal = await deps.portal.verify(token, deps.clock());
    if (principal?.kind !== 'portal') return 'invalid';
    return {
      token,
      appId: principal.appId,
      capabilities: effectiveCapabilities([...principal.capabilities], principal.readOnly),
      expiresAt: new Date(principal.expiresAt).toISOString(),
    };
  }

  async function page(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const nonce = newNonce();
    const headers = portalSecurityHeaders(nonce, { dev: ui.dev, frameAncestors: deps.frameAncestors });
    const session = await sessionOf(request);
    if (session === 'invalid')
      return reply
        .code(401)
        .headers(headers)
        .type('text/plain; charset=utf-8')
        .send('The app-portal token is invalid or has expired.');
    const result = await ui.render({
      url: request.url,
      nonce,
      csrfToken: '',
      assets: ui.assets,
      portal: { session },
      api: async ({ method, path, body }) => {
        const response = await deps.api.inject({
          method: method as 'GET',
          url: deps.apiPrefix + path,
          headers: {
            ...(session ? { authorization: `Bearer ${session.token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
        const text = response.body;
        return { status: response.statusCode, body: text === '' ? null : JSON.parse(text) };
      },
    });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(result.status, {
      ...headers,
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
    // The router ignores trailing slashes (as the API must), so `/portal/` is the `/portal` route.
    app.get('/portal', page);
    app.get('/portal/*', page);
  };
}
