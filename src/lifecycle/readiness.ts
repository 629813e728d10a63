import type { Config } from '../config/settings.ts';
import type { Storage } from '../storage/contract.ts';
import { SCHEMA_VERSION_KEY } from '../storage/migrate.ts';

/**
 * Whether this process should get traffic and work, as `/readyz` reports it. A process moves through
 *
 *   connecting ──(storage open, migrated)──▶ ready ──(SIGTERM)──▶ draining
 *
 * and is ready only in `ready`, while its storage answers, its database is still at the schema it
 * migrated to (a newer Hookyard migrating the database ahead makes this one step aside), and every
 * part its role runs is up: the API `accepting` (roles all, api), the dispatcher `claiming` (all,
 * worker). The reasons are stable codes; details that could reveal internal hosts stay in the log.
 */
export type ReadinessPhase = 'connecting' | 'ready' | 'draining';
export type Component = 'api' | 'dispatcher';
type Role = Config['role'];

export interface ReadinessReport {
  readonly ready: boolean;
  readonly reason?: 'starting' | 'storage_unavailable' | 'schema_changed' | 'shutting_down';
  readonly detail?: string;
  readonly checks: Record<string, string>;
}

export interface Readiness {
  readonly phase: ReadinessPhase;
  /** Storage is open and migrated to `schemaVersion`. */
  connected(storage: Storage, schemaVersion: string | undefined): void;
  /** A part of the role is up. */
  started(component: Component): void;
  /** SIGTERM: answer 503 from now on. */
  drain(): void;
  check(): Promise<ReadinessReport>;
}

const PING_TIMEOUT_MS = 2_000;

export function componentsFor(role: Role): readonly Component[] {
  if (role === 'api') return ['api'];
  if (role === 'worker') return ['dispatcher'];
  return ['api', 'dispatcher'];
}

export function createReadiness(role: Role): Readiness {
  const required = componentsFor(role);
  const up = new Set<Component>();
  let phase: ReadinessPhase = 'connecting';
  let storage: Storage | undefined;
  let schemaVersion: string | undefined;

  function componentChecks(): Record<string, string> {
    const checks: Record<string, string> = {};
    for (const component of required) {
      const running = component === 'api' ? 'accepting' : 'claiming';
      checks[component] = phase === 'draining' ? 'draining' : up.has(component) ? running : 'starting';
    }
    return checks;
  }

  return {
    get phase() {
      return phase;
    },
    connected(opened, version) {
      storage = opened;
      schemaVersion = version;
      if (phase === 'connecting') phase = 'ready';
    },
    started(component) {
      up.add(component);
    },
    drain() {
      phase = 'draining';
    },
    async check() {
      if (phase === 'draining')
        return {
          ready: false,
          reason: 'shutting_down',
          detail: 'this process is shutting down and finishing its in-flight work',
          checks: { ...componentChecks(), storage: storage ? 'open' : 'unavailable' },
        };
      if (!storage)
        return {
          ready: false,
          reason: 'storage_unavailable',
          detail: 'waiting for the database; this process connects by itself when it answers',
          checks: { storage: 'connecting', ...componentChecks() },
        };
      let current: string | undefined;
      try {
        current = await withTimeout(
          storage.ping().then(() => storage?.meta.get(SCHEMA_VERSION_KEY)),
          PING_TIMEOUT_MS,
        );
      } catch {
        return {
          ready: false,
          reason: 'storage_unavailable',
          detail: 'the database did not answer',
          checks: { storage: 'unavailable', ...componentChecks() },
        };
      }
      if (current !== schemaVersion)
        return {
          ready: false,
          reason: 'schema_changed',
          detail: `the database schema is version ${current}, this process runs version ${schemaVersion}; restart it with the matching Hookyard`,
          checks: { storage: 'ok', schema: 'changed', ...componentChecks() },
        };
      const checks = { storage: 'ok', schema: 'current', ...componentChecks() };
      const waiting = required.filter((component) => !up.has(component));
      if (waiting.length > 0)
        return { ready: false, reason: 'starting', detail: `starting: ${waiting.join(', ')}`, checks };
      return { ready: true, checks };
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
