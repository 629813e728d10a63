import type { FastifyInstance } from 'fastify';
import { hashToken, tokenMatches } from '../../domain/tokens.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { bearerToken } from '../auth.ts';

/**
 * `GET /metrics`: the Prometheus text exposition, outside `/api/v1` (scrapers expect it at the root).
 * Open by default, like most exporters on a private port; with HOOKYARD_METRICS_TOKEN set, a bearer
 * token is required (Prometheus `authorization: {credentials: ...}`), compared as SHA-256 digests.
 */
export function metricsRoute(metrics: Metrics, token: string): (app: FastifyInstance) => Promise<void> {
  const expected = token === '' ? undefined : hashToken(token);
  return async (app) => {
    app.get('/metrics', async (request, reply) => {
      if (expected) {
        const given = bearerToken(request);
        if (given === undefined || !tokenMatches(given, expected))
          throw new ApiError(
            'authentication_failed',
            'Send the metrics token (HOOKYARD_METRICS_TOKEN) as "Authorization: Bearer <token>".',
            { headers: { 'www-authenticate': 'Bearer' } },
          );
      }
      const body = await metrics.render();
      return reply.type(metrics.contentType).send(body);
    });
  };
}
