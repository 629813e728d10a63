import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config/settings.ts';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Storage } from '../storage/contract.ts';
import { API_PREFIX } from './build-app.ts';
import { createErrorHandler, sendError } from './errors.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoute } from './routes/metrics.ts';
import { type Probes, probeRoutes } from './routes/probes.ts';

export interface BuildProbeAppDeps {
  readonly config: Pick<Config, 'metricsToken'>;
  readonly storage: Storage;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly probes: Probes;
}

/**
 * What a process without the API (`--role worker`) serves on HOOKYARD_PORT once it runs, so it can be
 * probed and scraped like any pod: `/livez`, `/readyz`, `GET /metrics` and the health routes at their
 * API paths (`/api/v1/health`, `/api/v1/health/ping`). Nothing else: every other path is 404.
 */
export async function buildProbeApp(deps: BuildProbeAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino-specific members from the type.
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setErrorHandler(createErrorHandler(deps.logger));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new ApiError('not_found', `No route ${request.method} ${request.url.split('?')[0]} on a worker.`),
    ),
  );
  await app.register(probeRoutes(deps.probes));
  await app.register(metricsRoute(deps.metrics, deps.config.metricsToken));
  await app.register(healthRoutes({ storage: deps.storage }), { prefix: API_PREFIX });
  return app;
}
