/**
 * SQLite WAL checkpoint micro-benchmark: can checkpoints leave the writer's thread?
 *
 * A writer on the main thread commits small transactions (four 1 KB rows, an index) at a steady pace
 * with an fsync of the WAL per turn, the way Hookyard's ingest does, and the checkpoints run:
 *
 * - `main`: where SQLite runs them by default, inside the COMMIT that crosses 1,000 WAL pages;
 * - `worker-only`: never on the writer (`wal_autocheckpoint = 0`), only passively from a second
 *   connection on a worker thread every 20 ms;
 * - `hybrid-20`, `hybrid-5`: the writer keeps its automatic checkpoints and the worker copies
 *   frames ahead of it every 20 or 5 ms, so the writer's checkpoint finds less to copy.
 *
 * For each: the writer's COMMIT time in all, the commits over 1 ms (those that ran a checkpoint), the
 * WAL file's size at the end, and the worker's passes and their time. Results are in
 * docs/performance.md (profiling item 14).
 *
 *     node bench/checkpoint-microbench.ts [--seconds 5] [--rounds 2]
 */
import { fsyncSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

interface CheckpointerData {
  path: string;
  everyMs: number;
}

interface ModeResult {
  commits: number;
  commitMs: number;
  checkpointCommits: number;
  checkpointCommitMs: number;
  walMB: number;
  workerPasses: number;
  workerMs: number;
}

const MODES = {
  main: { autocheckpoint: true, workerEveryMs: 0 },
  'worker-only': { autocheckpoint: false, workerEveryMs: 20 },
  'hybrid-20': { autocheckpoint: true, workerEveryMs: 20 },
  'hybrid-5': { autocheckpoint: true, workerEveryMs: 5 },
} as const;
type Mode = keyof typeof MODES;

/** The worker thread: passive checkpoints from its own connection until told to stop. */
function runCheckpointer({ path, everyMs }: CheckpointerData): void {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA synchronous = NORMAL');
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let passes = 0;
  let ms = 0;
  const timer = setInterval(() => {
    const started = performance.now();
    checkpoint.get();
    ms += performance.now() - started;
    passes++;
  }, everyMs);
  parentPort?.once('message', () => {
    clearInterval(timer);
    db.close();
    parentPort?.postMessage({ passes, ms });
    parentPort?.close();
  });
}

async function runMode(mode: Mode, seconds: number): Promise<ModeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hookyard-checkpoint-'));
  const path = join(dir, 'bench.db');
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  if (!MODES[mode].autocheckpoint) db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL, k TEXT NOT NULL)');
  db.exec('CREATE INDEX t_k ON t (k)');
  const everyMs = MODES[mode].workerEveryMs;
  const worker =
    everyMs > 0
      ? new Worker(new URL(import.meta.url), { workerData: { path, everyMs } satisfies CheckpointerData })
      : undefined;
  const insert = db.prepare('INSERT INTO t (body, k) VALUES (?, ?)');
  const body = 'x'.repeat(1000);
  const result: ModeResult = {
    commits: 0,
    commitMs: 0,
    checkpointCommits: 0,
    checkpointCommitMs: 0,
    walMB: 0,
    workerPasses: 0,
    workerMs: 0,
  };
  let walFd: number | undefined;
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    for (let i = 0; i < 10; i++) {
      db.exec('BEGIN IMMEDIATE');
      for (let row = 0; row < 4; row++) insert.run(body, String(Math.random()));
      const started = performance.now();
      db.exec('COMMIT');
      const took = performance.now() - started;
      result.commits++;
      result.commitMs += took;
      if (took > 1) {
        result.checkpointCommits++;
        result.checkpointCommitMs += took;
      }
    }
    walFd ??= openSync(`${path}-wal`, 'r');
    fsyncSync(walFd);
    // A turn of the event loop between bursts, as the writer's HTTP work would give the worker.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  result.walMB = statSync(`${path}-wal`).size / 1e6;
  if (worker) {
    const done = new Promise<{ passes: number; ms: number }>((resolve) => worker.once('message', resolve));
    worker.postMessage('stop');
    const { passes, ms } = await done;
    result.workerPasses = passes;
    result.workerMs = ms;
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  console.log(
    '| mode | round | commits | COMMIT ms | checkpointing commits | their ms | WAL MB | worker passes | worker ms |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (let round = 1; round <= rounds; round++) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const r = await runMode(mode, seconds);
      console.log(
        `| ${mode} | ${round} | ${r.commits} | ${r.commitMs.toFixed(0)} | ${r.checkpointCommits} | ${r.checkpointCommitMs.toFixed(0)} | ${r.walMB.toFixed(1)} | ${r.workerPasses} | ${r.workerMs.toFixed(0)} |`,
      );
    }
  }
}

if (isMainThread) await main();
else runCheckpointer(workerData as CheckpointerData);
