import type { TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import type { SettingName } from '../../src/config/settings.ts';
import { createDestinations } from '../../src/delivery/destinations.ts';
import { createDispatcher, type Dispatcher } from '../../src/dispatch/dispatcher.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { OperationalSink } from '../../src/operational/events.ts';
import { createEndpointCache } from '../../src/storage/endpoint-cache.ts';
import type { TestBackend, TestStorage } from './backends.ts';

export const ADMIN_TOKEN = 'pipeline-admin-token-0123456789';
export const silentLogger = createLogger('silent', false);

/**
 * The whole pipeline on one test database: the API (app.inject), and dispatchers that can be started
 * and stopped between steps so a test decides exactly when queued deliveries go out. Everything is
 * closed by `t.after`.
 */
export interface Pipeline {
  storage: TestStorage;
  app: FastifyInstance;
  call(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Starts a dispatcher (one at a time); `stopDispatcher` lets in-flight attempts finish. */
  startDispatcher(): Promise<Dispatcher>;
  stopDispatcher(): Promise<void>;
}

export async function pipeline(
  t: TestContext,
  backend: TestBackend,
  options: {
    settings?: Partial<Record<SettingName, string>>;
    operational?: (storage: TestStorage) => Promise<OperationalSink> | OperationalSink;
    clock?: () => number;
    /** Serve `GET /metrics`, with a census every `censusIntervalMs` (default 25 ms). */
    metrics?: { censusIntervalMs?: number };
  } = {},
): Promise<Pipeline> {
  const storage = await backend.create({
    allowedSubnets: '127.0.0.0/8',
    retrySchedule: '50ms,50ms',
    ...options.settings,
  });
  const endpointCache = createEndpointCache(storage);
  const destination = createDestinations(storage.config, silentLogger);
  const operational = await options.operational?.(storage);
  const metrics =
    options.metrics &&
    createMetrics({
      storage,
      logger: silentLogger,
      censusIntervalMs: options.metrics.censusIntervalMs ?? 25,
    });
  const app = await buildApp({
    config: storage.config,
    storage,
    logger: silentLogger,
    adminTokenHash: hashToken(ADMIN_TOKEN),
    endpointCache,
    operational,
    metrics,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await app.ready();
  let dispatcher: Dispatcher | undefined;
  const stopDispatcher = async () => {
    await dispatcher?.close();
    dispatcher = undefined;
  };
  t.after(async () => {
    await stopDispatcher();
    await app.close();
    await metrics?.close();
    await (operational as { close?: () => Promise<void> } | undefined)?.close?.();
    await destination.close();
    endpointCache.close();
    await storage.cleanup();
  });
  return {
    storage,
    app,
    call(request) {
      return app.inject({
        ...request,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(request.headers ?? {}) },
      });
    },
    async startDispatcher() {
      await stopDispatcher();
      dispatcher = createDispatcher({
        storage,
        endpointCache,
        destination,
        config: storage.config,
        logger: silentLogger,
        pollIntervalMs: 100,
        operational,
      });
      await dispatcher.start();
      return dispatcher;
    },
    stopDispatcher,
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
