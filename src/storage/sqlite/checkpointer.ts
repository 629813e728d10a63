import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log/logger.ts';
import { events } from '../../observability/events.ts';
import type { CheckpointReply } from './checkpoint-worker.ts';

/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages: on the
 * main thread, it copies those pages into the database file and fsyncs the WAL and the file, and
 * nothing else (HTTP, deliveries) runs meanwhile. In the bench's profile at 1,000 messages/s, COMMIT
 * was 12 % of the process's CPU and the cause of the p99. So the main connection runs with
 * `wal_autocheckpoint = 0`, and checkpoints run on a worker thread with its own connection
 * (checkpoint-worker.ts):
 *
 *     writes ──every INTERVAL_MS while there are any, once the WAL has reached START_BYTES──►
 *       PASSIVE checkpoint on the worker (never waits, never blocks a write)
 *         ├─ caught up, or the WAL still small ──► done; the next write restarts the WAL from its start
 *         └─ behind by more than BARRIER_FRAMES (writes never paused long enough for a pass to finish)
 *              ──► one more pass while the driver holds new transactions back (`barrier`): it copies
 *                  only what the last pass left, and the WAL restarts at the next write
 *
 * The barrier pauses transactions, not the event loop: requests are still parsed and deliveries still
 * sent while it runs. A checkpoint is safe with any interleaving (SQLite locks the WAL index), keeps
 * the same durability (it fsyncs the WAL before copying, the file after), and may fail without harm:
 * the frames stay in the WAL and the next pass copies them. Below START_BYTES no thread is started, so
 * short-lived databases (tests, the CLI) never pay for one; closing the last connection checkpoints.
 */
export interface Checkpointer {
  /** A transaction committed. */
  written(): void;
  /** Stops scheduling, waits for a pass in progress, and closes the worker's connection. */
  close(): Promise<void>;
}

export interface CheckpointerDeps {
  readonly path: string;
  /** Runs `fn` while no transaction runs or starts (the driver's queue). */
  readonly barrier: (fn: () => Promise<void>) => Promise<void>;
  /** A checkpoint found the disk full. */
  readonly onFull: () => void;
  readonly logger?: Logger | undefined;
}

/** SQLite's own threshold for its automatic checkpoint: 1,000 pages of 4 KiB. */
const START_BYTES = 4 * 1024 * 1024;
const INTERVAL_MS = 200;
/** 32 MiB of 4 KiB frames. */
export const BARRIER_FRAMES = 8_192;
const SQLITE_FULL = 13;

export function createCheckpointer(deps: CheckpointerDeps): Checkpointer {
  const walPath = `${deps.path}-wal`;
  let worker: Worker | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let dirty = false;
  let closed = false;
  let nextId = 0;
  const waiting = new Map<number, (reply: CheckpointReply) => void>();

  function start(): Worker {
    const thread = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
      workerData: { path: deps.path },
    });
    thread.on('message', (reply: CheckpointReply) => {
      waiting.get(reply.id)?.(reply);
      waiting.delete(reply.id);
    });
    // A thread that failed or ended answers nothing more: fail what waits on it, and start another
    // at the next pass.
    const lost = (message: string) => {
      for (const [id, resolve] of waiting) resolve({ id, ok: false, message });
      waiting.clear();
      if (worker === thread) worker = undefined;
    };
    thread.on('error', (error) => {
      deps.logger?.warn({ err: error }, 'the SQLite checkpoint thread failed; the next pass starts another');
      lost(error.message);
    });
    thread.on('exit', () => lost('the SQLite checkpoint thread exited'));
    // The thread must never keep the process alive by itself.
    thread.unref();
    return thread;
  }

  function pass(): Promise<CheckpointReply> {
    worker ??= start();
    const id = nextId++;
    const thread = worker;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      thread.postMessage({ id });
    });
  }

  async function checkpoint(mode: 'background' | 'barrier'): Promise<CheckpointReply> {
    const started = performance.now();
    const reply = await pass();
    if (events.walCheckpoint.hasSubscribers)
      events.walCheckpoint.publish({
        mode,
        durationMs: performance.now() - started,
        frames: reply.ok ? reply.log : 0,
        copied: reply.ok ? reply.checkpointed : 0,
      });
    if (!reply.ok) {
      if (reply.errcode !== undefined && (reply.errcode & 0xff) === SQLITE_FULL) deps.onFull();
      deps.logger?.warn({ error: reply.message }, 'SQLite WAL checkpoint failed; the next one retries');
    }
    return reply;
  }

  async function run(): Promise<void> {
    if (!worker) {
      // Not started yet: only once the WAL is as large as SQLite would have checkpointed it at.
      const size = (await stat(walPath).catch(() => undefined))?.size ?? 0;
      if (size < START_BYTES) return;
    }
    const reply = await checkpoint('background');
    if (closed || !reply.ok || reply.checkpointed >= reply.log || reply.log < BARRIER_FRAMES) return;
    await deps.barrier(async () => {
      await checkpoint('barrier');
    });
  }

  function schedule(): void {
    if (closed || timer || running) return;
    timer = setTimeout(() => {
      timer = undefined;
      dirty = false;
      running = run()
        .catch((error: unknown) => deps.logger?.warn({ err: error }, 'SQLite WAL checkpoint failed'))
        .finally(() => {
          running = undefined;
          if (dirty) schedule();
        });
    }, INTERVAL_MS);
    timer.unref();
  }

  return {
    written() {
      dirty = true;
      schedule();
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
      const thread = worker;
      worker = undefined;
      if (!thread) return;
      const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
      thread.postMessage('close');
      await exited;
    },
  };
}
