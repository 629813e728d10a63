/**
 * Ordered delivery on a fleet: an api process and two workers on one PostgreSQL database deliver three
 * fifoEndpoint destinations. Only one worker sends a destination at a time (the receiver never has two
 * requests of one destination in flight), and when the worker holding a destination's lease is
 * SIGKILLed, the other takes the destination over once the lease lapses: every message arrives, in
 * the order accepted.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { assertNeverReordered, startOrderedReceiver } from '../helpers/ordered.ts';
import { createTestDatabase, skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';
import { type HookyardProcess, startHookyard } from '../helpers/server-process.ts';

const NAMES = ['alpha', 'beta', 'gamma'];
const PER_DESTINATION = 60;

describe('ordered delivery on a fleet (PostgreSQL)', { skip: skipWithoutPostgres }, () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  async function start(env: Record<string, string>): Promise<HookyardProcess> {
    const process = await startHookyard(env);
    cleanups.push(() => process.kill());
    return process;
  }

  it('one worker per destination at a time; a killed worker\u2019s leases pass to the other', {
    timeout: 300_000,
  }, async (t) => {
    const receiver = await startOrderedReceiver({ delayMs: 30 });
    cleanups.push(() => receiver.close());
    const db = await createTestDatabase(testDatabaseUrl!, 'fifofleet');
    cleanups.push(db.drop);
    const shared = {
      HOOKYARD_DATABASE_URL: db.url,
      HOOKYARD_LEASE_DURATION: '5s',
      HOOKYARD_DELIVERY_TIMEOUT: '1s',
    };
    const api = await start({ ...shared, HOOKYARD_ROLE: 'api' });
    const workers = [
      await start({ ...shared, HOOKYARD_ROLE: 'worker' }),
      await start({ ...shared, HOOKYARD_ROLE: 'worker' }),
    ];
    const app = await api.api<{ id: string }>('POST', '/api/v1/app', { name: 'fleet' });
    for (const name of NAMES) {
      const made = await api.api('POST', `/api/v1/app/${app.body.id}/destination`, {
        type: 'fifoEndpoint',
        batchSize: 4,
        eventTypes: [name],
        config: { url: `${receiver.url}/fifo`, headers: { 'x-dest': name } },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }

    // One sender, in order: n is each destination's acceptance order.
    const sending = (async () => {
      for (let n = 1; n <= PER_DESTINATION; n++)
        for (const name of NAMES) {
          const sent = await api.api('POST', `/api/v1/app/${app.body.id}/msg`, {
            eventType: name,
            payload: { n },
          });
          assert.equal(sent.status, 202, JSON.stringify(sent.body));
        }
    })();

    // Kill the worker that holds a live lease, once deliveries are under way.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    await receiver.receiver.waitFor(() => NAMES.some((name) => receiver.seen(name) >= 8), 120_000);
    let victim: HookyardProcess | undefined;
    for (let tries = 0; !victim && tries < 2000; tries++) {
      const { rows } = await client.query<{ lease_owner: string }>(
        'SELECT lease_owner FROM fifo_state WHERE lease_owner IS NOT NULL AND next_attempt_at > $1',
        [Date.now()],
      );
      victim = workers.find((worker) =>
        rows.some((row) => row.lease_owner.split(':')[1] === String(worker.child.pid)),
      );
      if (!victim) await sleep(5);
    }
    assert.ok(victim, 'a worker held a lease');
    await victim.kill();
    const seenAtKill = NAMES.map((name) => receiver.seen(name));

    await sending;
    await receiver.receiver.waitFor(
      () => NAMES.every((name) => receiver.seen(name) >= PER_DESTINATION),
      180_000,
    );
    for (const name of NAMES) {
      const repeated = assertNeverReordered(receiver.batches(name), PER_DESTINATION, name);
      assert.equal(receiver.maxInFlight(name), 1, `${name}: never two requests at once`);
      t.diagnostic(`${name}: ${receiver.seen(name)} messages, ${repeated} again after the kill`);
    }
    t.diagnostic(`killed at ${seenAtKill.join('/')} messages seen`);
    const survivor = workers.find((worker) => worker !== victim)!;
    assert.equal(survivor.child.exitCode, null, 'the other worker is still running');
  });
});
