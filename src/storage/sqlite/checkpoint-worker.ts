import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The checkpointer's thread (see checkpointer.ts): its own connection to the database file, which
 * copies WAL frames back into the file when asked, so the copy and its two fsyncs never run on the
 * main thread's event loop. PASSIVE never waits for a lock and never blocks the writer: it copies
 * what no reader still needs and reports how far it got.
 */
export interface CheckpointRequest {
  readonly id: number;
}

export type CheckpointReply =
  | { readonly id: number; readonly ok: true; readonly log: number; readonly checkpointed: number }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly errcode?: number };

const port = parentPort;
if (!port) throw new Error('checkpoint-worker.ts runs as a worker thread only');

const db = new DatabaseSync((workerData as { path: string }).path);
// The main connection chose WAL; this one only checkpoints (and never checkpoints on its own commit).
db.exec('PRAGMA wal_autocheckpoint = 0');
const statement = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

port.on('message', (request: CheckpointRequest | 'close') => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    const row = statement.get() as { busy: number; log: number; checkpointed: number };
    port.postMessage({
      id: request.id,
      ok: true,
      log: row.log,
      checkpointed: row.checkpointed,
    } satisfies CheckpointReply);
  } catch (error) {
    const errcode = (error as { errcode?: unknown }).errcode;
    port.postMessage({
      id: request.id,
      ok: false,
      message: (error as Error).message,
      ...(typeof errcode === 'number' ? { errcode } : {}),
    } satisfies CheckpointReply);
  }
});
