/**
 * `hookyard backup` copies the embedded database online while a server takes messages; `hookyard
 * restore` puts it into another data directory, where a server finds every message acknowledged
 * before the backup began. Restore refuses a data directory a server holds, and a file that is not
 * a Hookyard database.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type LoadResult, sendMessages } from '../helpers/load.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { runCli, startHookyard, tempDir } from '../helpers/server-process.ts';

describe('backup and restore (embedded SQLite)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('backs up under load, restores into a new data directory, and every message is there', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const dataDir = tempDir();
    const hookyard = await startHookyard({ HOOKYARD_DATA_DIR: dataDir });
    cleanups.push(() => hookyard.stop());
    const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'backed up' });
    await hookyard.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/hook` });

    let stop = false;
    // sendMessages fills one result object as it goes; onProgress hands it over.
    let live: LoadResult | undefined;
    let enough: (() => void) | undefined;
    const enoughAccepted = new Promise<void>((resolve) => {
      enough = resolve;
    });
    const load = sendMessages({
      url: hookyard.url,
      appId: app.body.id,
      total: 1_000_000,
      concurrency: 16,
      shouldStop: () => stop,
      onProgress: (result) => {
        live = result;
        if (result.accepted.size >= 500) enough?.();
      },
    });
    await enoughAccepted;
    // Taken while the load runs: everything acknowledged up to here must be in the copy.
    const acceptedBeforeBackup = new Set(live?.accepted);
    const file = join(tempDir('hookyard-backup-'), 'hookyard-backup.db');
    const backup = await runCli(['backup', file], { HOOKYARD_DATA_DIR: dataDir });
    const acceptedDuringBackup = (live?.accepted.size ?? 0) - acceptedBeforeBackup.size;
    stop = true;
    const total = await load;
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^backed up .* \(schema \d+, \d+ messages, [\d.]+ [KM]iB\)\n$/);
    assert.ok(acceptedDuringBackup > 0, 'the server kept accepting messages while the backup ran');
    assert.deepEqual([...total.rejected.keys()], [], 'no request failed while the backup ran');

    // A running server's directory cannot be restored into.
    const refused = await runCli(['restore', file], { HOOKYARD_DATA_DIR: dataDir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /another Hookyard server \(pid \d+\) is using data directory/);

    const restoredDir = tempDir();
    const restore = await runCli(['restore', file], { HOOKYARD_DATA_DIR: restoredDir });
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /^restored .* into /);

    const restored = await startHookyard({ HOOKYARD_DATA_DIR: restoredDir, HOOKYARD_ROLE: 'api' });
    cleanups.push(() => restored.stop());
    const missing: string[] = [];
    for (const id of acceptedBeforeBackup) {
      const msg = await restored.api('GET', `/api/v1/app/${app.body.id}/msg/${id}`);
      if (msg.status !== 200) missing.push(id);
    }
    assert.deepEqual(missing, [], 'every message acknowledged before the backup is in it');
  });

  it('restore keeps the database it replaces, and refuses a file that is not a Hookyard database', async () => {
    const dataDir = tempDir();
    const first = await startHookyard({ HOOKYARD_DATA_DIR: dataDir });
    const app = await first.api<{ id: string }>('POST', '/api/v1/app', { name: 'kept' });
    assert.equal(await first.stop(), 0);
    const file = join(tempDir('hookyard-backup-'), 'copy.db');
    assert.equal((await runCli(['backup', file], { HOOKYARD_DATA_DIR: dataDir })).code, 0);

    const again = await runCli(['restore', file], { HOOKYARD_DATA_DIR: dataDir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /the database it replaced is kept as .*hookyard\.db\.before-restore-/);
    const server = await startHookyard({ HOOKYARD_DATA_DIR: dataDir });
    cleanups.push(() => server.stop());
    assert.equal((await server.api('GET', `/api/v1/app/${app.body.id}`)).status, 200);

    const junk = join(tempDir(), 'junk.db');
    writeFileSync(junk, 'not a database at all, just text that is long enough to be read as a header');
    const bad = await runCli(['restore', junk], { HOOKYARD_DATA_DIR: tempDir() });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /is not a (SQLite|Hookyard) database/);

    const none = await runCli(['backup', join(tempDir(), 'x.db')], { HOOKYARD_DATA_DIR: tempDir() });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /there is no Hookyard database at/);
  });
});
