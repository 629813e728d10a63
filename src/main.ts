/**
 * The composition root: listener (probes) → storage → metrics → endpoint cache → destinations →
 * dispatcher → HTTP API. The only place that listens on a port and owns shutdown; everything it starts
 * has a `close()`, closed in reverse order after the listener stopped taking new work and what was in
 * progress finished. Every role listens on HOOKYARD_PORT: the API with `/metrics` and the probes, or for
 * `--role worker` only `/metrics`, the probes and health.
 */
import { buildApp } from './api/build-app.ts';
import { buildProbeApp } from './api/build-probe-app.ts';
import { buildStandbyApp } from './api/build-standby-app.ts';
import type { Config } from './config/settings.ts';
import { createDestinations } from './delivery/destinations.ts';
import { createDispatcher } from './dispatch/dispatcher.ts';
import { generateAdminToken, hashToken } from './domain/tokens.ts';
import { connectStorage } from './lifecycle/connect-storage.ts';
import { createEventLoopMonitor } from './lifecycle/event-loop-monitor.ts';
import { openHttpListener } from './lifecycle/http-listener.ts';
import { createReadiness } from './lifecycle/readiness.ts';
import type { Logger } from './log/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { createOperationalSink } from './operational/operational-sink.ts';
import { createRetentionPurger } from './retention/retention-purger.ts';
import type { Storage } from './storage/contract.ts';
import { createEndpointCache } from './storage/endpoint-cache.ts';
import { SCHEMA_VERSION_KEY } from './storage/migrate.ts';
import { createDevelopmentUi, createProductionUi, type UiRuntime } from './ui/ui-runtime.ts';

export interface RunningServer {
  /** The bound address, e.g. `http://127.0.0.1:8071`; every role listens (probes; the API too unless worker). */
  readonly url: string;
  /**
   * Settles when start-up is over: resolves once storage is connected and every part of the role runs,
   * rejects when it failed for good (a schema newer than this build, a locked data directory). An
   * unreachable database is waited for, not a failure.
   */
  readonly started: Promise<void>;
  /** Drains: `/readyz` 503 and writes refused at once, in-flight requests and attempts finish, then all closes. */
  close(): Promise<void>;
}

const ADMIN_TOKEN_META_KEY = 'admin_token_sha256';

/**
 * The admin token's hash: from `HOOKYARD_ADMIN_TOKEN`, else the one stored at first start, else a
 * new token that is printed exactly once and never stored in clear.
 */
export async function resolveAdminTokenHash(
  config: Config,
  storage: Storage,
  announce: (token: string) => void,
): Promise<Buffer> {
  if (config.adminToken) return hashToken(config.adminToken);
  const stored = await storage.meta.get(ADMIN_TOKEN_META_KEY);
  if (stored) return Buffer.from(stored, 'hex');
  const token = generateAdminToken();
  const hash = hashToken(token);
  await storage.meta.set(ADMIN_TOKEN_META_KEY, hash.toString('hex'));
  announce(token);
  return hash;
}

/** How long shutdown waits for HTTP requests in progress before closing what they use. */
const HTTP_DRAIN_MS = 10_000;

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const readiness = createReadiness(config.role);
  const eventLoop = createEventLoopMonitor();
  const probes = { readiness, eventLoop };
  const standby = await buildStandbyApp({
    logger,
    probes,
    servesApi: config.role !== 'worker',
    backend: config.databaseUrl === '' ? 'sqlite' : 'postgres',
  });
  // The port opens before the database is reached, so probes answer while it is awaited.
  const listener = await openHttpListener({
    host: config.host,
    port: config.port,
    handler: standby.routing,
  });
  const abort = new AbortController();
  const closers: Array<() => Promise<void> | void> = [];

  const started = (async () => {
    const storage = await connectStorage({ config, logger, signal: abort.signal });
    closers.push(() => storage.close());
    readiness.connected(storage, await storage.meta.get(SCHEMA_VERSION_KEY));
    abort.signal.throwIfAborted();

    const metrics = createMetrics({ storage, logger });
    closers.push(() => metrics.close());
    const endpointCache = createEndpointCache(storage);
    closers.push(() => endpointCache.close());
    // Before anything can emit: creates or updates the internal operational application and endpoint.
    const operational = createOperationalSink({ storage, config, logger });
    await operational.start();
    closers.push(() => operational.close());

    if (config.role !== 'api') {
      const destination = createDestinations(config, logger);
      closers.push(() => destination.close());
      const dispatcher = createDispatcher({
        storage,
        endpointCache,
        destination,
        config,
        logger,
        operational,
      });
      closers.push(() => dispatcher.close());
      await dispatcher.start();
      readiness.started('dispatcher');
      const purger = createRetentionPurger({ storage, config, logger });
      closers.push(() => purger.close());
      purger.start();
    }

    if (config.role === 'worker') {
      const app = await buildProbeApp({ config, storage, logger, metrics, probes });
      closers.push(() => app.close());
      await app.ready();
      abort.signal.throwIfAborted();
      listener.use(app.routing);
    } else {
      const adminTokenHash = await resolveAdminTokenHash(config, storage, (token) => {
        // Printed on stdout, not logged: log pipelines should never carry a credential.
        process.stdout.write(
          `\nGenerated an admin token (shown once; only its hash is stored):\n\n  ${token}\n\n` +
            'Use it as "Authorization: Bearer <token>", or set HOOKYARD_ADMIN_TOKEN to choose your own.\n\n',
        );
      });
      let ui: UiRuntime | undefined;
      if (config.dashboard !== 'off') {
        const made =
          config.dashboard === 'dev'
            ? await createDevelopmentUi()
            : await createProductionUi({
                log: (line) => logger.info(line),
                warn: (line) => logger.warn(line),
              });
        if (made) closers.push(() => made.close());
        ui = made;
      }
      const app = await buildApp({
        config,
        storage,
        logger,
        adminTokenHash,
        endpointCache,
        operational,
        probes,
        metrics,
        ui,
      });
      closers.push(() => app.close());
      await app.ready();
      abort.signal.throwIfAborted();
      listener.use(app.routing);
      readiness.started('api');
    }

    logger.info({ url: listener.url, role: config.role, storage: storage.description }, 'hookyard started');
  })();
  // Observed here so a failure is never unhandled; callers await `started` for its outcome.
  started.catch(() => {});

  let closing: Promise<void> | undefined;
  const close = async () => {
    readiness.drain();
    abort.abort(new Error('shutting down'));
    await started.catch(() => {});
    if (!(await listener.idle(HTTP_DRAIN_MS)))
      logger.warn('HTTP requests still in progress at shutdown were cut off');
    // From here the API is gone; probes still answer (503 ready) while deliveries drain.
    listener.use(standby.routing);
    // Reverse order of start: the app, then the dispatcher (which finishes in-flight attempts), storage last.
    for (const closer of closers.reverse()) {
      try {
        await closer();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
    eventLoop.close();
    await standby.close();
    await listener.close();
  };

  return {
    url: listener.url,
    started,
    close() {
      closing ??= close();
      return closing;
    },
  };
}
