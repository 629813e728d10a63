import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import { API_PREFIX } from './build-app.ts';
import { sendError } from './errors.ts';
import { unavailableHealthReport } from './routes/health.ts';
import { type Probes, probeRoutes } from './routes/probes.ts';

export interface BuildProbeAppDeps {
  readonly logger: Logger;
  readonly probes: Probes;
  /** Whether this process serves the API once it is up (roles all and api). */
  readonly servesApi: boolean;
  /** `sqlite` or `postgres`, for the Svix-shaped health report. */
  readonly backend: string;
}

/**
 * What the listener serves while the API is not (yet, or any more) up, and all a worker serves: the
 * probes, `/api/v1/health` in Svix's shape, and for every other path a 503 saying why (`storage_unavailable` while the database is
 * being waited for, `shutting_down` while draining), or a 404 on a worker, which has no API.
 */
export async function buildProbeApp(deps: BuildProbeAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(probeRoutes(deps.probes));
  if (deps.servesApi)
    // Svix's health shape also before the API is up, for monitors that parse it.
    app.get(`${API_PREFIX}/health`, async (_request, reply) => {
      if (deps.probes.readiness.phase === 'draining') return sendError(reply, new ApiError('shutting_down'));
      return reply.code(503).send(unavailableHealthReport(deps.backend));
    });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (deps.probes.readiness.phase === 'draining') return sendError(reply, new ApiError('shutting_down'));
    if (!deps.servesApi)
      return sendError(reply, new ApiError('not_found', `No route ${request.method} ${path} on a worker.`));
    return sendError(reply, new ApiError('storage_unavailable'));
  });
  await app.ready();
  return app;
}
