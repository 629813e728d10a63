/**
 * The composition root: config → storage → endpoint cache → dispatcher → HTTP. The only place that
 * listens on a port and owns shutdown; everything it starts has a `close()`, closed in reverse order.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/build-app.ts';
import type { Config } from './config/settings.ts';
import { createHttpClient } from './delivery/http-client.ts';
import { createDispatcher } from './dispatch/dispatcher.ts';
import { generateAdminToken, hashToken } from './domain/tokens.ts';
import type { Logger } from './log/logger.ts';
import { createOperationalSink } from './operational/operational-sink.ts';
import { createRetentionPurger } from './retention/retention-purger.ts';
import type { Storage } from './storage/contract.ts';
import { createStorage } from './storage/create-storage.ts';
import { createEndpointCache } from './storage/endpoint-cache.ts';
import { createDevelopmentUi, createProductionUi, type UiRuntime } from './ui/ui-runtime.ts';

export interface RunningServer {
  /** The bound address, e.g. `http://127.0.0.1:8071`; undefined for a worker-only process. */
  readonly url: string | undefined;
  readonly storage: Storage;
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

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const storage = await createStorage({ config, logger });
  const closers: Array<() => Promise<void> | void> = [() => storage.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'error while shutting down');
      }
    }
  };

  try {
    const endpointCache = createEndpointCache(storage);
    closers.push(() => endpointCache.close());
    // Before anything can emit: creates or updates the internal operational application and endpoint.
    const operational = createOperationalSink({ storage, config, logger });
    await operational.start();
    closers.push(() => operational.close());

    if (config.role !== 'api') {
      const httpClient = createHttpClient(config, logger);
      closers.push(() => httpClient.close());
      const dispatcher = createDispatcher({
        storage,
        endpointCache,
        httpClient,
        config,
        logger,
        operational,
      });
      closers.push(() => dispatcher.close());
      await dispatcher.start();
      const purger = createRetentionPurger({ storage, config, logger });
      closers.push(() => purger.close());
      purger.start();
    }

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (config.role !== 'worker') {
      const adminTokenHash = await resolveAdminTokenHash(config, storage, (token) => {
        // Printed on stdout, not logged: log pipelines should never carry a credential.
        process.stdout.write(
          `\nGenerated an admin token (shown once; only its hash is stored):\n\n  ${token}\n\n` +
            'Use it as "Authorization: Bearer <token>", or set HOOKYARD_ADMIN_TOKEN to choose your own.\n\n',
        );
      });
      let ui: UiRuntime | undefined;
      if (config.dashboard !== 'off') {
        ui =
          config.dashboard === 'dev'
            ? await createDevelopmentUi()
            : await createProductionUi({ log: (line) => logger.info(line) });
        const started = ui;
        closers.push(() => started.close());
      }
      app = await buildApp({ config, storage, logger, adminTokenHash, endpointCache, operational, ui });
      // Closing the app first stops accepting and lets in-flight requests finish before storage closes.
      const started = app;
      closers.push(() => started.close());
      url = await app.listen({ port: config.port, host: config.host });
    }

    logger.info({ url, role: config.role, storage: storage.description }, 'hookyard started');
    return { url, storage, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
