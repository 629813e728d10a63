import { registerAjvFormats, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Config } from '../config/settings.ts';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { discardOperationalEvents, type OperationalSink } from '../operational/events.ts';
import type { EndpointRecord, Storage } from '../storage/contract.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { portalRoutes } from '../ui/portal-routes.ts';
import { createSessionStore } from '../ui/session-store.ts';
import { uiRoutes } from '../ui/ui-routes.ts';
import type { UiRuntime } from '../ui/ui-runtime.ts';
import { assertAppAccess, authenticate, authorize, createPortalKeys, createPortalTokens } from './auth.ts';
import { createContext, type EndpointSource } from './context.ts';
import { registerCors } from './cors.ts';
import { createErrorHandler, sendError } from './errors.ts';
import { registerIdempotency } from './idempotency.ts';
import { registerJsonBodyParser } from './json-body.ts';
import { collectRoutes } from './openapi.ts';
import { createPollerTokens } from './poller-tokens.ts';
import { applicationRoutes } from './routes/applications.ts';
import { attemptRequestRoutes } from './routes/attempt-request.ts';
import { attemptRoutes } from './routes/attempts.ts';
import { authRoutes } from './routes/auth.ts';
import { bulkOperationRoutes } from './routes/bulk-operations.ts';
import { destinationRoutes } from './routes/destinations.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { environmentRoutes } from './routes/environment.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { exploreRoutes } from './routes/explore.ts';
import { healthRoutes } from './routes/health.ts';
import { messageRoutes } from './routes/messages.ts';
import { metricsRoute } from './routes/metrics.ts';
import { operationalWebhookRoutes } from './routes/operational-webhooks.ts';
import { pollingRoutes } from './routes/polling.ts';
import { type Probes, probeRoutes } from './routes/probes.ts';
import { statsRoutes } from './routes/stats.ts';
import { validatorCompiler } from './validator.ts';

export interface BuildAppDeps {
  config: Config;
  storage: Storage;
  logger: Logger;
  /** SHA-256 of the admin token; the token itself never reaches the server's memory. */
  adminTokenHash: Buffer;
  /** Fan-out reads endpoints through it; without one every message reads them from storage. */
  endpointCache?: EndpointSource & { get?(endpointId: string): Promise<EndpointRecord | undefined> };
  clock?: () => number;
  /** Receives endpoint.created/updated/deleted; without one they are discarded. */
  operational?: OperationalSink | undefined;
  /** The dashboard (src/ui, web/): served under /ui when given; its session cookie then authenticates API calls. */
  ui?: UiRuntime | undefined;
  /** `/livez` and `/readyz`; while its readiness is draining, writes are refused with 503 `shutting_down`. */
  probes?: Probes | undefined;
  /** Served at `GET /metrics` when given. */
  metrics?: Metrics | undefined;
  /** OpenTelemetry tracing (tracing/), when it is on. */
  tracing?: Tracing | undefined;
}

export const API_PREFIX = '/api/v1';
/** Query parameters that carry lists: comma-separated (the SDKs), repeated, or repeated as `name[]=`. */
const LIST_QUERY_PARAMS = ['event_types'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The HTTP API as a Fastify instance, ready for `inject()` or `listen()` (which only main calls). */
export async function buildApp(deps: BuildAppDeps): Promise<FastifyInstance> {
  const { config, storage, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const ctx = createContext({
    config,
    storage,
    logger,
    clock,
    endpoints: deps.endpointCache ?? { forApp: (appId) => storage.endpoints.listAll(appId) },
    portal: createPortalTokens(storage.meta),
    portalKeys: createPortalKeys(storage.meta),
    operational: deps.operational ?? discardOperationalEvents,
    tracing: deps.tracing,
  });
  const pollers = createPollerTokens(storage.meta);

  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only drops pino-specific members from the type.
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines would dominate the log at webhook volumes; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    // The message payload is checked against maxPayloadBytes itself; the margin is for the envelope
    // (eventType, channels, application) and the whitespace a pretty-printed body carries.
    bodyLimit: config.maxPayloadBytes + Math.max(64 * 1024, Math.ceil(config.maxPayloadBytes / 4)),
    // Room for 256-character uids, so an over-long one is a 422 naming the parameter rather than a 404.
    // A trailing slash names the same route (`POST /api/v1/app/`), as Svix normalises it.
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // TypeBox validates: bodies strictly as Svix (serde) does, with no coercion; query and path values
  // are converted from text (validator.ts).
  registerAjvFormats();
  app.setValidatorCompiler(validatorCompiler);

  const document = collectRoutes(app);
  const handleError = createErrorHandler(logger);
  app.setErrorHandler(handleError);
  // Only JSON bodies: anything else is 415 rather than a string handed to a schema.
  app.removeContentTypeParser(['text/plain']);
  registerJsonBodyParser(app);

  const patterns: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const source = route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      patterns.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`) });
    }
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = METHODS.filter((method) =>
      patterns.some((p) => p.method === method && p.pattern.test(path)),
    );
    if (allowed.length > 0) {
      return sendError(
        reply,
        new ApiError('method_not_allowed', undefined, { headers: { allow: allowed.join(', ') } }),
      );
    }
    return sendError(reply, new ApiError('not_found', `No route ${request.method} ${path}.`));
  });

  const sessions = deps.ui ? createSessionStore(storage.meta) : undefined;
  // Background tasks started by requests finish (or fail) before the storage they write to closes.
  app.addHook('onClose', () => ctx.tasks.drain());

  app.decorateRequest('principal', null);
  // Some clients label a bodiless POST (resend, logout) as JSON; an empty body is no body, not bad JSON.
  app.addHook('onRequest', async (request) => {
    if (request.headers['content-length'] === '0') delete request.headers['content-type'];
  });

  registerCors(app, API_PREFIX, config.corsOrigins);

  const probes = deps.probes;
  if (probes) {
    // Draining: requests already in progress finish, reads are still answered, and a new write is
    // refused before it touches storage, so the caller retries against another instance.
    app.addHook('onRequest', async (request, reply) => {
      if (probes.readiness.phase === 'draining' && !READS.has(request.method))
        return sendError(reply, new ApiError('shutting_down'));
    });
    await app.register(probeRoutes(probes));
  }

  if (deps.metrics) await app.register(metricsRoute(deps.metrics, config.metricsToken));
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', async (request) => {
        const access = request.routeOptions.config.access ?? 'admin';
        if (access === 'public') return;
        const { config: route } = request.routeOptions;
        const principal = await authenticate(
          request,
          deps.adminTokenHash,
          ctx.portal,
          clock(),
          sessions,
          pollers,
        );
        authorize(principal, access, route.capability, route.poller === true);
        request.principal = principal;
        // A portal token's application is checked here, before the body is parsed or validated, so a
        // malformed request on another application's resource is refused as such (404), not answered
        // by validation. Handlers still check the application they load.
        const params = request.params as Record<string, unknown> | undefined;
        const appParam = params?.['app_id'];
        if (principal.kind === 'portal' && typeof appParam === 'string' && appParam !== principal.appId) {
          const target = await storage.applications.get(appParam);
          assertAppAccess(principal, target?.id);
        }
      });
      v1.addHook('preValidation', async (request) => {
        const query = request.query as Record<string, unknown> | undefined;
        if (!query || typeof query !== 'object') return;
        for (const name of LIST_QUERY_PARAMS) {
          const bracketed = query[`${name}[]`];
          if (bracketed !== undefined) {
            delete query[`${name}[]`];
            query[name] = [query[name] ?? [], bracketed].flat();
          }
          const value = query[name];
          if (value === undefined) continue;
          const parts = (Array.isArray(value) ? value : [value]).flatMap((item) => String(item).split(','));
          query[name] = parts.map((part) => part.trim()).filter((part) => part !== '');
        }
      });
      registerIdempotency(v1, storage.idempotency, clock);

      v1.get('/openapi.json', { config: { access: 'public' } }, async () => document());
      await v1.register(healthRoutes(ctx));
      await v1.register(applicationRoutes(ctx));
      await v1.register(eventTypeRoutes(ctx));
      await v1.register(endpointRoutes(ctx));
      await v1.register(destinationRoutes(ctx));
      await v1.register(pollingRoutes(ctx, pollers));
      await v1.register(messageRoutes(ctx));
      await v1.register(attemptRoutes(ctx));
      await v1.register(authRoutes(ctx));
      await v1.register(statsRoutes(ctx));
      await v1.register(exploreRoutes(ctx));
      await v1.register(attemptRequestRoutes(ctx));
      await v1.register(bulkOperationRoutes(ctx));
      await v1.register(environmentRoutes(ctx));
      await v1.register(operationalWebhookRoutes(ctx));
    },
    { prefix: API_PREFIX },
  );
  if (deps.ui && sessions) {
    await app.register(
      uiRoutes({
        ui: deps.ui,
        sessions,
        adminTokenHash: deps.adminTokenHash,
        clock,
        logger,
        api: app,
        apiPrefix: API_PREFIX,
        publicUrl: config.publicUrl,
      }),
    );
    await app.register(
      portalRoutes({
        ui: deps.ui,
        portal: ctx.portal,
        clock,
        frameAncestors: config.portalFrameAncestors,
        api: app,
        apiPrefix: API_PREFIX,
      }),
    );
  }

  return app;
}
