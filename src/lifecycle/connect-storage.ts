import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/settings.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { type Storage, StorageUnavailable } from '../storage/contract.ts';
import { createStorage } from '../storage/create-storage.ts';

export interface ConnectStorageOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Aborted on shutdown: stops waiting and rejects with the signal's reason. */
  readonly signal: AbortSignal;
  readonly initialRetryMs?: number;
  readonly maxRetryMs?: number;
}

/**
 * Opens and migrates storage, waiting for a database that cannot be reached yet instead of exiting
 * (an orchestrator may start Hookyard before its database). The first failure is logged once, with
 * the cause; retries back off to `maxRetryMs` and are logged at debug. Anything other than an
 * unreachable database (a schema newer than this build, a locked data directory, a bad URL) is not
 * going to heal by waiting and is thrown at once.
 */
export async function connectStorage(options: ConnectStorageOptions): Promise<Storage> {
  const { config, logger, signal } = options;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  let retryMs = options.initialRetryMs ?? 500;
  let failures = 0;
  for (;;) {
    signal.throwIfAborted();
    try {
      const storage = await createStorage({ config, logger });
      if (failures > 0) logger.info({ failures }, 'database reachable again: connected and migrated');
      return storage;
    } catch (error) {
      const err = toError(error);
      if (!(err instanceof StorageUnavailable)) throw err;
      failures++;
      if (failures === 1)
        logger.warn(
          { err: err.message, retryMs: maxRetryMs },
          'database unreachable at start-up; serving /livez (200) and /readyz (503) and connecting in the background',
        );
      else logger.debug({ err: err.message, failures }, 'database still unreachable');
    }
    await sleep(retryMs, undefined, { signal });
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  }
}
