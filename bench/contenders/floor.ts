/**
 * Contender "floor" (optional: `--only floor,...`): the least a forwarder that never loses an event
 * can do in Node on this machine, to tell how close to `bare` any durable design can come. It is
 * `bare` (node:http, JSON.parse, undici with 64 keep-alive connections per receiver) plus the two
 * writes durability cannot skip: each accepted event and its deliveries are inserted into SQLite
 * (node:sqlite, WAL) and the WAL is fsync'd before the 202, and each delivery is marked done when the
 * receiver answers, so a restart would know what is left. Writes are group-committed as Hookyard's
 * are: the events that arrive while one commit and its fsync run share the next; the done marks of
 * one event-loop turn share a transaction, not synced (a crash resends, which at-least-once allows).
 *
 * Nothing else: no framework, no authentication or validation beyond JSON.parse, no signing, no ids
 * beyond one per event, no attempt history, no claim (deliveries are sent from memory after the
 * commit), no retry state in the database (a failure is retried from memory after the scenario's
 * delay). Every one of those is work Hookyard does, so `floor` bounds Hookyard from above.
 */
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { newMessageId, readEnv } from './common.ts';
import { accept, createRawForwarder, serveRawIngest } from './raw-http.ts';

const env = readEnv();
const dataDir = process.env['BENCH_DATA_DIR'];
if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
const forwarder = createRawForwarder(env);

const path = join(dataDir, 'floor.db');
const db = new DatabaseSync(path);
db.exec('PRAGMA journal_mode = WAL');
// The commit's durability comes from the fsync of the WAL below, as in Hookyard (wal-sync.ts).
db.exec('PRAGMA synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, payload TEXT NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS deliveries (event_id TEXT NOT NULL, target INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (event_id, target)) STRICT, WITHOUT ROWID;`);
const insertEvent = db.prepare('INSERT INTO events (id, payload) VALUES (?, ?)');
const insertDelivery = db.prepare('INSERT INTO deliveries (event_id, target) VALUES (?, ?)');
const markDone = db.prepare('UPDATE deliveries SET done = 1 WHERE event_id = ? AND target = ?');
// The WAL exists once the schema is written.
const wal = await open(`${path}-wal`, 'r+');

interface Pending {
  readonly id: string;
  readonly body: string;
  readonly res: ServerResponse;
}

let waiting: Pending[] = [];
let flushing = false;

/** Commits every waiting event, fsyncs the WAL, then answers and sends them; repeats while more came. */
async function flush(): Promise<void> {
  try {
    await flushWaiting();
  } finally {
    flushing = false;
  }
}

async function flushWaiting(): Promise<void> {
  while (waiting.length > 0) {
    const batch = waiting;
    waiting = [];
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const event of batch) {
        insertEvent.run(event.id, event.body);
        for (let target = 0; target < forwarder.targets; target++) insertDelivery.run(event.id, target);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      for (const event of batch) event.res.writeHead(503).end(String(error));
      continue;
    }
    await wal.datasync();
    for (const event of batch) {
      accept(event.res, event.id);
      for (let target = 0; target < forwarder.targets; target++)
        forwarder.forward(target, event.body, () => recordDone(event.id, target));
    }
  }
}

let done: Array<readonly [string, number]> = [];

function recordDone(id: string, target: number): void {
  if (done.length === 0) setImmediate(commitDone);
  done.push([id, target]);
}

function commitDone(): void {
  const batch = done;
  done = [];
  db.exec('BEGIN IMMEDIATE');
  for (const [id, target] of batch) markDone.run(id, target);
  db.exec('COMMIT');
}

serveRawIngest(env, forwarder, (body, res) => {
  waiting.push({ id: newMessageId(), body, res });
  if (flushing) return;
  // After this turn's other requests, so they share the commit.
  flushing = true;
  setImmediate(flush);
});
