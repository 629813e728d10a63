import type { FastifyInstance } from 'fastify';

/**
 * CORS for the API, so pages of other sites can call it with a bearer token (the Svix JS SDK inside
 * `svix-react`'s SvixProvider, with an app-portal token). Never with cookies: no
 * `Access-Control-Allow-Credentials`, and a cross-origin request that carries a cookie but no bearer
 * token gets no CORS headers, so the dashboard's session cannot be used from another origin (its
 * cookie is SameSite=Strict as well). `origins` is `['*']` (any origin), empty (CORS off) or a list.
 */
const ALLOWED_HEADERS =
  'authorization, content-type, idempotency-key, svix-req-id, user-agent, x-requested-with';
const EXPOSED_HEADERS = 'retry-after, idempotent-replayed, x-request-id';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

export function registerCors(app: FastifyInstance, prefix: string, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const any = origins.includes('*');
  const allowed = (origin: string) => any || origins.includes(origin);
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string' || !request.url.startsWith(prefix)) return;
    if (!allowed(origin)) return;
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'];
    if (!preflight && request.headers.cookie && !request.headers.authorization) return;
    reply.header('access-control-allow-origin', any ? '*' : origin);
    if (!any) reply.header('vary', 'origin');
    if (!preflight) {
      reply.header('access-control-expose-headers', EXPOSED_HEADERS);
      return;
    }
    const asked = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .header('access-control-allow-methods', METHODS)
      .header(
        'access-control-allow-headers',
        typeof asked === 'string' && asked.length < 2048 ? asked : ALLOWED_HEADERS,
      )
      .header('access-control-max-age', '600')
      .send();
  });
}
