import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/build-app.ts';
import type { SettingName } from '../../src/config/settings.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createEndpointCache, type EndpointCache } from '../../src/storage/endpoint-cache.ts';
import { backends, type TestBackend, type TestStorage } from '../helpers/backends.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface Harness {
  app: FastifyInstance;
  storage: TestStorage;
  endpointCache: EndpointCache;
  /** inject with the admin token unless `headers.authorization` is given. */
  call(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function sqliteBackend(): TestBackend {
  const backend = backends()[0];
  if (!backend) throw new Error('no SQLite test backend');
  return backend;
}

/** A fresh database and app. `overrides` are settings such as `{ maxPayloadBytes: '2048' }`. */
export async function harness(
  overrides: Partial<Record<SettingName, string>> = {},
  backend: TestBackend = sqliteBackend(),
  options: { clock?: () => number } = {},
): Promise<Harness> {
  const storage = await backend.create({ allowedSubnets: '127.0.0.0/8', ...overrides });
  const endpointCache = createEndpointCache(storage);
  const app = await buildApp({
    config: storage.config,
    storage,
    logger: createLogger('silent', false),
    adminTokenHash: hashToken(ADMIN_TOKEN),
    endpointCache,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await app.ready();
  return {
    app,
    storage,
    endpointCache,
    call({ token, ...options }) {
      const headers = { ...(options.headers ?? {}) } as Record<string, string>;
      const bearer = token === undefined ? ADMIN_TOKEN : token;
      if (bearer !== null && headers['authorization'] === undefined)
        headers['authorization'] = `Bearer ${bearer}`;
      return app.inject({ ...options, headers });
    },
    async close() {
      await app.close();
      endpointCache.close();
      await storage.cleanup();
    },
  };
}
