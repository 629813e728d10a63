import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import { API_PREFIX } from './build-app.ts';
import { sendError } from './errors.ts';
import { unavailableHealthReport } from './routes/health.ts';
import { type Probes, probeRoutes } from './routes/probes.ts';

export interface BuildStandbyAppDeps {
  readonly logger: Logger;
  readonly probes: Probes;
  /** Whether this process serves the API once it is up (roles all and api). */
  readonly servesApi: boolean;
  /** `sqlite` or `postgres`, for the Svix-shaped health report. */
  readonly backend: string;
}

/**
 * What the listener serves while the process is not (yet, or no longer) up: before storage is
 * connected and while draining. The probes answer (`/readyz` says why it is 503), `/api/v1/health`
 * answers 503 in Svix's shape, and every other path a 503 saying why: `storage_unavailable` while
 * the database is awaited, `shutting_down` while draining; a worker, which has no API, answers 404.
 */
export async function buildStandbyApp(deps: BuildStandbyAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  await app.register(probeRoutes(deps.probes));
  // Svix's health shape also before the process is up, for monitors that parse it.
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
