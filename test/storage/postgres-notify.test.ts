import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgresDriver } from '../../src/storage/postgres/postgres-driver.ts';
import { skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';

/**
 * A NOTIFY issued in a transaction (how ingest wakes the workers of other processes,
 * src/storage/postgres/postgres-driver.ts): listeners hear it once the transaction commits, in order
 * and with its payload as given, and never when it rolls back.
 */
describe('PostgreSQL NOTIFY inside a transaction', { skip: skipWithoutPostgres }, () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const driver of opened) await driver.close();
  });

  it('is heard after the commit, with its payload, and not at all after a rollback', async () => {
    const driver = await openPostgresDriver({ url: testDatabaseUrl!, poolSize: 2 });
    opened.push(driver);
    const channel = `hy_test_${randomBytes(6).toString('hex')}`;
    const heard: string[] = [];
    await driver.listen(channel, (payload) => heard.push(payload));

    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const committed = driver.transaction(async (tx) => {
      await tx.notify(channel, 'it\'s \\ "quoted"');
      await tx.notify(channel, 'second');
      await held;
      return tx.query<{ one: number }>('SELECT 1 AS one');
    });
    await sleep(200);
    assert.deepEqual(heard, [], 'nothing is heard before the commit');
    release();
    assert.deepEqual(await committed, [{ one: 1 }]);
    const deadline = Date.now() + 5_000;
    while (heard.length < 2 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(heard, ['it\'s \\ "quoted"', 'second']);

    await assert.rejects(
      driver.transaction(async (tx) => {
        await tx.notify(channel, 'rolled back');
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await driver.transaction(async (tx) => tx.notify(channel, 'after'));
    while (heard.length < 3 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(heard, ['it\'s \\ "quoted"', 'second', 'after']);
  });
});
