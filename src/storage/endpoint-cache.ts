import type { ApplicationRecord, EndpointRecord, Storage } from './contract.ts';

export interface EndpointCache {
  /** Every endpoint of the application, as fan-out needs them. */
  forApp(appId: string): Promise<EndpointRecord[]>;
  /** The application by id or uid, as ingest needs it for every message. */
  application(idOrUid: string): Promise<ApplicationRecord | undefined>;
  get(endpointId: string): Promise<EndpointRecord | undefined>;
  close(): void;
}

export interface EndpointCacheOptions {
  /** How long an entry may live without an invalidation (default 1 s). */
  ttlMs?: number;
  /** Entries per map before the oldest are dropped (default 10 000). */
  maxEntries?: number;
  clock?: () => number;
}

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

/**
 * Fan-out and delivery read endpoints on every message; this keeps them out of the database. Entries
 * are dropped by the storage's change events (this process's at once, other processes' through
 * LISTEN/NOTIFY where the backend has it); the TTL bounds how stale an entry can be should a
 * notification be lost. A load that fails is not cached.
 */
export function createEndpointCache(storage: Storage, options: EndpointCacheOptions = {}): EndpointCache {
  const ttlMs = options.ttlMs ?? 1_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const clock = options.clock ?? Date.now;
  const byApp = new Map<string, Entry<EndpointRecord[]>>();
  const byId = new Map<string, Entry<EndpointRecord | undefined>>();
  const applications = new Map<string, Entry<ApplicationRecord | undefined>>();

  const unsubscribe = storage.subscribe((event) => {
    if (event.kind === 'endpoint') {
      if (event.appId !== null) byApp.delete(event.appId);
      byId.delete(event.id);
    } else if (event.kind === 'application') {
      if (event.appId !== null) byApp.delete(event.appId);
      // Keyed by id or uid, and a uid can move to another application: drop them all.
      applications.clear();
      // Deleting an application deletes its endpoints; which ones are cached by id is not tracked.
      byId.clear();
    }
  });

  function cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = clock();
    const hit = map.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const value = load();
    const entry = { at: now, value };
    map.delete(key);
    map.set(key, entry);
    if (map.size > maxEntries) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    value.catch(() => {
      if (map.get(key) === entry) map.delete(key);
    });
    return value;
  }

  return {
    forApp: (appId) => cached(byApp, appId, () => storage.endpoints.listAll(appId)),
    application: (idOrUid) => cached(applications, idOrUid, () => storage.applications.get(idOrUid)),
    get: (endpointId) =>
      cached(byId, endpointId, async () => (await storage.endpoints.getMany([endpointId]))[0]),
    close() {
      unsubscribe();
      byApp.clear();
      byId.clear();
      applications.clear();
    },
  };
}
