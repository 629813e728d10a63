import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { events } from '../../observability/events.ts';

/**
 * Makes SQLite commits durable without blocking the event loop.
 *
 * `node:sqlite` is synchronous: with `synchronous=FULL` every COMMIT waits for an fsync on the main
 * thread, and nothing else (HTTP, deliveries) runs meanwhile. Instead the connection runs with
 * `synchronous=NORMAL`, where a WAL-mode COMMIT only writes its frames to the WAL file, and a commit
 * that must be durable then awaits `sync()`: an fsync of the WAL file on libuv's thread pool. Once it
 * returns, the commit's frames are on stable storage (fsync flushes every write made to the file
 * before it started, earlier commits' included), which is exactly what `synchronous=FULL` guarantees. SQLite itself still syncs
 * the WAL before each checkpoint and the database file after it, so checkpoints stay safe.
 *
 * Syncs are coalesced: a sync already running may have started before the caller's commit, so the
 * caller waits for the next one, which every caller arriving meanwhile shares (group commit at the
 * fsync level).
 */
export interface WalSync {
  /** Resolves once everything committed before the call is on stable storage. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export function createWalSync(walPath: string): WalSync {
  let handle: FileHandle | undefined;
  let inode: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  async function fsyncOnce(): Promise<void> {
    // SQLite deletes the WAL only when its last connection closes; should the file ever be replaced
    // while we hold the old one, syncing the stale descriptor would prove nothing, so check. On the
    // event loop: a stat takes microseconds, while a hop to the thread pool and back, on top of the
    // fsync's own, cost about 5 % of a lightly loaded process (profile of the latency bench).
    const current = statSync(walPath, { throwIfNoEntry: false });
    if (!current) return; // No WAL file: nothing has been written since the last checkpoint-and-close.
    if (!handle || inode !== current.ino) {
      await handle?.close().catch(() => {});
      handle = await open(walPath, 'r');
      inode = current.ino;
    }
    const started = performance.now();
    await handle.sync();
    if (events.walFsync.hasSubscribers) events.walFsync.publish({ durationMs: performance.now() - started });
  }

  function start(): Promise<void> {
    const run = fsyncOnce().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  }

  return {
    sync() {
      if (!running) return start();
      if (!next) {
        next = running
          .catch(() => {})
          .then(() => {
            next = undefined;
            return start();
          });
      }
      return next;
    },
    async close() {
      await Promise.allSettled([running, next]);
      await handle?.close().catch(() => {});
      handle = undefined;
    },
  };
}
