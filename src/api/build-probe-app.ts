import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import { sendError } from './errors.ts';
import { type Probes, probeRoutes } from './routes/probes.ts';

export interface BuildProbeAppDeps {
  readonly logger: Logger;
  readonly probes: Probes;
  /** Whether this process serves the API once it is up (roles all and api). */
  readonly servesApi: boolean;
}

/**
 * What the listener serves while the API is not (yet, or any more) up, and all a worker serves: the
 * probes, and for every other path a 503 saying why (`storage_unavailable` while the database is
 * being waited for, `shutting_down` while draining), or a 404 on a worker, which has no API.
 */
export async function buildProbeApp(deps: BuildProbeAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(probeRoutes(deps.probes));
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
