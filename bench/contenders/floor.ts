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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Agent } from 'undici';
import { newMessageId, readEnv } from './common.ts';

const env = readEnv();
const dataDir = process.env['BENCH_DATA_DIR'];
if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
const agent = new Agent({
  connections: env.connectionsPerOrigin,
  pipelining: 1,
  headersTimeout: env.deliveryTimeoutMs,
  bodyTimeout: env.deliveryTimeoutMs,
});
const targets = env.targets.map((url) => ({ origin: new URL(url).origin, path: new URL(url).pathname }));
const postHeaders = { 'content-type': 'application/json' };

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
  while (waiting.length > 0) {
    const batch = waiting;
    waiting = [];
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const event of batch) {
        insertEvent.run(event.id, event.body);
        for (let target = 0; target < targets.length; target++) insertDelivery.run(event.id, target);
      }
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      for (const event of batch) event.res.writeHead(503).end(String(error));
      continue;
    }
    await wal.datasync();
    for (const event of batch) {
      const answer = `{"id":"${event.id}"}`;
      event.res
        .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
        .end(answer);
      for (let target = 0; target < targets.length; target++) forward(event, target, 1);
    }
  }
  flushing = false;
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

function forward(event: Pending, target: number, attempt: number): void {
  const to = targets[target]!;
  agent
    .request({ origin: to.origin, path: to.path, method: 'POST', headers: postHeaders, body: event.body })
    .then(
      async (res) => {
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) recordDone(event.id, target);
        else retry(event, target, attempt);
      },
      () => retry(event, target, attempt),
    );
}

function retry(event: Pending, target: number, attempt: number): void {
  const delay = env.retryDelays[attempt - 1];
  if (delay !== undefined) setTimeout(() => forward(event, target, attempt + 1), delay);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid JSON');
      return;
    }
    waiting.push({ id: newMessageId(), body, res });
    if (flushing) return;
    // After this turn's other requests, so they share the commit.
    flushing = true;
    setImmediate(flush);
  });
});
server.keepAliveTimeout = 120_000;

server.listen(env.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  // The bench kills this process after a grace period anyway; exit promptly once closed.
  Promise.race([
    new Promise<void>((resolve) => server.close(() => resolve())).then(() => agent.close()),
    new Promise((resolve) => setTimeout(resolve, 3_000)),
  ]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
