/**
 * "A full disk never turns into a false 2xx": Hookyard on embedded SQLite runs with its data directory
 * on a small tmpfs the test mounts, messages are accepted, then the disk is filled. Ingest must answer
 * 507 `storage_full` (or 202 for what it could still make durable), health must say so, deliveries of
 * the accepted messages must go on, and once the filler is deleted ingest works again without a
 * restart. Afterwards the database passes an integrity check and holds every accepted message.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { type HookyardProcess, startHookyard } from '../helpers/server-process.ts';
import { mountSmallDisk } from '../helpers/small-disk.ts';

const disk = mountSmallDisk(48);

describe('full disk (sqlite)', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  it('refuses ingest with 507 while the disk is full, keeps delivering, and recovers without a restart', {
    skip: 'skip' in disk ? disk.skip : false,
  }, async () => {
    if ('skip' in disk) return;
    cleanups.push(() => disk.unmount());
    // Fails every attempt until released, so accepted messages are still waiting when the disk fills.
    let open = false;
    const receiver: Receiver = await startReceiver({ respond: () => (open ? 200 : 500) });
    cleanups.push(() => receiver.close());
    const hookyard: HookyardProcess = await startHookyard({
      HOOKYARD_DATA_DIR: disk.dir,
      HOOKYARD_DISK_RESERVE: String(4 * 1024 * 1024),
      HOOKYARD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
      HOOKYARD_LOG_LEVEL: 'error',
    });
    cleanups.push(() => hookyard.kill());
    const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'disk' });
    assert.equal(app.status, 201);
    const endpoint = await hookyard.api('POST', `/api/v1/app/${app.body.id}/endpoint`, {
      url: `${receiver.url}/hook`,
    });
    assert.equal(endpoint.status, 201);

    const accepted = new Set<string>();
    const send = async (i: number) => {
      const res = await hookyard.api<{ id?: string; code?: string }>(
        'POST',
        `/api/v1/app/${app.body.id}/msg`,
        { eventType: 'disk.test', payload: { i, pad: 'x'.repeat(2000) } },
      );
      if (res.status === 202 && res.body.id) accepted.add(res.body.id);
      return res;
    };
    for (let i = 0; i < 50; i++) assert.equal((await send(i)).status, 202);

    disk.fill();
    // Whatever still fits may be accepted; then the disk is full and ingest says so, never a 2xx.
    let refused: { status: number; body: { code?: string } } | undefined;
    for (let i = 0; i < 5000 && !refused; i++) {
      const res = await send(1000 + i);
      assert.ok(res.status === 202 || res.status === 507, `ingest on a full disk: ${res.status}`);
      if (res.status === 507) refused = res;
    }
    assert.ok(refused, 'ingest was refused once the disk filled');
    assert.equal(refused.body.code, 'storage_full');
    const health = await hookyard.api<{ code?: string }>('GET', '/api/v1/health');
    assert.equal(health.status, 503);
    assert.equal(health.body.code, 'storage_full');
    for (let i = 0; i < 20; i++) assert.equal((await send(9000 + i)).status, 507);

    // The accepted messages are still delivered while the disk stays full.
    open = true;
    await receiver.waitFor(() => [...accepted].every((id) => receiver.counts.has(id)), 60_000);
    assert.equal((await send(9999)).status, 507);

    // Space comes back: ingest and health recover by themselves.
    disk.free();
    let recovered = false;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && !recovered; ) {
      recovered = (await send(20_000)).status === 202;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(recovered, 'ingest works again once space is freed');
    assert.equal((await hookyard.api('GET', '/api/v1/health')).status, 200);
    await receiver.waitFor(() => [...accepted].every((id) => receiver.counts.has(id)), 30_000);

    assert.equal(await hookyard.stop(), 0);
    const db = new DatabaseSync(join(disk.dir, 'hookyard.db'), { readOnly: true });
    try {
      const check = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
      assert.deepEqual(
        check.map((row) => row.integrity_check),
        ['ok'],
      );
      const stored = new Set(
        (db.prepare('SELECT id FROM messages').all() as { id: string }[]).map((row) => row.id),
      );
      assert.deepEqual(
        [...accepted].filter((id) => !stored.has(id)),
        [],
        'every accepted message is stored',
      );
    } finally {
      db.close();
    }
  });
});
