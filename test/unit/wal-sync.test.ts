import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWalSync } from '../../src/storage/sqlite/wal-sync.ts';
import { tempDir } from '../helpers/server-process.ts';

test('callers during a running fsync share the next one; later callers start their own', async () => {
  const wal = join(tempDir(), 'x.db-wal');
  writeFileSync(wal, 'frames');
  const sync = createWalSync(wal);
  const first = sync.sync();
  const second = sync.sync();
  const third = sync.sync();
  assert.notEqual(first, second, 'a sync already running may predate the second commit');
  assert.equal(second, third, 'commits made meanwhile share one fsync');
  await Promise.all([first, second, third]);
  const fourth = sync.sync();
  assert.notEqual(fourth, third);
  await fourth;
  await sync.close();
});

test('a replaced or missing WAL file is handled, not synced through a stale descriptor', async () => {
  const wal = join(tempDir(), 'y.db-wal');
  const sync = createWalSync(wal);
  await sync.sync(); // no file yet: nothing to sync
  writeFileSync(wal, 'a');
  await sync.sync();
  rmSync(wal);
  writeFileSync(wal, 'b'); // a new inode
  await sync.sync();
  await sync.close();
});
