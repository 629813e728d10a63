import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { events, type WalCheckpoint } from '../../src/observability/events.ts';
import { BARRIER_FRAMES } from '../../src/storage/sqlite/checkpointer.ts';
import { openSqliteDriver } from '../../src/storage/sqlite/sqlite-driver.ts';
import { tempDir } from '../helpers/server-process.ts';

/**
 * The SQLite driver never checkpoints inside a COMMIT on the event loop: a thread of its own copies
 * the WAL back (storage/sqlite/checkpointer.ts), and when its passes cannot catch up it runs one while
 * new transactions wait. Real files, a real second connection holding a reader open.
 */
const MB = 1024 * 1024;

function listen(): { passes: WalCheckpoint[]; stop: () => void } {
  const passes: WalCheckpoint[] = [];
  const onPass = (message: unknown) => passes.push(message as WalCheckpoint);
  events.walCheckpoint.subscribe(onPass);
  return { passes, stop: () => events.walCheckpoint.unsubscribe(onPass) };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Commits `megabytes` of 256 KB rows, one transaction each. */
async function fill(driver: ReturnType<typeof openSqliteDriver>, megabytes: number): Promise<void> {
  const blob = 'x'.repeat(256 * 1024);
  for (let i = 0; i < megabytes * 4; i++)
    await driver.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (?)', [blob]));
}

test('a COMMIT never checkpoints; the checkpoint thread copies the WAL back once it passes 4 MB', async (t) => {
  const path = join(tempDir(), 'c.db');
  const driver = openSqliteDriver(path);
  const { passes, stop } = listen();
  t.after(stop);
  await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');

  await fill(driver, 2);
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(passes.length, 0, 'no thread and no pass below 4 MB of WAL');

  await fill(driver, 6);
  // wal_autocheckpoint = 0: the WAL holds every frame until the thread's pass copies them.
  assert.ok(statSync(`${path}-wal`).size >= 8 * MB, 'the COMMITs left the WAL alone');
  // The pass after the last write (one comes within the interval of a write) copies every frame.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await until('a pass that copied every frame', () => {
    const last = passes.at(-1);
    return last !== undefined && last.mode === 'background' && last.frames > 0 && last.copied === last.frames;
  });
  // Caught up: the next write starts the WAL over from its beginning instead of growing it.
  const sizeAfterPass = statSync(`${path}-wal`).size;
  await fill(driver, 1);
  assert.equal(statSync(`${path}-wal`).size, sizeAfterPass, 'the WAL restarted rather than grew');

  await driver.close();
  const check = new DatabaseSync(path);
  assert.equal((check.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 36);
  check.close();
});

test('passes that cannot catch up lead to a barrier pass; a reader holding old frames only delays it', async (t) => {
  const path = join(tempDir(), 'b.db');
  const driver = openSqliteDriver(path);
  const { passes, stop } = listen();
  t.after(stop);
  await driver.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  await fill(driver, 1);

  // A second connection reads inside a transaction: no checkpoint may copy past its snapshot.
  const reader = new DatabaseSync(path);
  reader.exec('BEGIN');
  reader.prepare('SELECT COUNT(*) FROM t').get();

  await fill(driver, Math.ceil((BARRIER_FRAMES * 4096) / MB) + 4);
  await until('a barrier pass', () => passes.some((pass) => pass.mode === 'barrier'));
  const barrier = passes.find((pass) => pass.mode === 'barrier');
  assert.ok(barrier && barrier.copied < barrier.frames, 'the reader held the barrier pass back');
  // Writes still work meanwhile (the barrier waits for nothing but its own pass).
  await driver.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (?)', ['after']));

  reader.exec('COMMIT');
  reader.close();
  await fill(driver, 1);
  await until('a pass that copied every frame once the reader left', () =>
    passes.some((pass) => pass.frames >= BARRIER_FRAMES && pass.copied === pass.frames),
  );
  await driver.close();
});
