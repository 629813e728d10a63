/**
 * Ordered delivery survives a crash: Hookyard runs as a child process, a fifoEndpoint receives a
 * stream of messages in batches, the process is SIGKILLed in the middle of it (a batch in flight),
 * restarts on the same data, takes more messages, and the receiver has seen every message in the order
 * accepted: a batch may repeat, never reorder.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertNeverReordered, startOrderedReceiver } from '../helpers/ordered.ts';
import { createTestDatabase } from '../helpers/postgres-database.ts';
import { type HookyardProcess, startHookyard, tempDir } from '../helpers/server-process.ts';

const databaseUrl = process.env.HOOKYARD_TEST_DATABASE_URL;
const BEFORE_KILL = 150;
const AFTER_RESTART = 50;

const backends = [
  { name: 'sqlite', prepare: async () => ({ env: { HOOKYARD_DATA_DIR: tempDir() }, drop: async () => {} }) },
  ...(databaseUrl
    ? [
        {
          name: 'postgres',
          prepare: async () => {
            const db = await createTestDatabase(databaseUrl, 'fifocrash');
            return { env: { HOOKYARD_DATABASE_URL: db.url }, drop: db.drop };
          },
        },
      ]
    : []),
];

async function sendInOrder(hookyard: HookyardProcess, appId: string, from: number, to: number) {
  for (let n = from; n <= to; n++) {
    const sent = await hookyard.api('POST', `/api/v1/app/${appId}/msg`, {
      eventType: 'ledger.entry',
      payload: { n },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  }
}

for (const backend of backends) {
  describe(`ordered delivery across a crash (${backend.name})`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    it('a SIGKILL mid-stream: every message arrives, in order; a batch may repeat', {
      timeout: 240_000,
    }, async (t) => {
      // Each request is held a while, so the kill lands while a batch is in flight.
      const receiver = await startOrderedReceiver({ delayMs: 40 });
      cleanups.push(() => receiver.close());
      const { env, drop } = await backend.prepare();
      cleanups.push(drop);
      const settings = { ...env, HOOKYARD_LEASE_DURATION: '10s', HOOKYARD_DELIVERY_TIMEOUT: '2s' };
      const first = await startHookyard(settings);
      cleanups.push(() => first.kill());
      const app = await first.api<{ id: string }>('POST', '/api/v1/app', { name: 'ledger' });
      const made = await first.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/destination`, {
        type: 'fifoEndpoint',
        batchSize: 3,
        config: { url: `${receiver.url}/fifo`, headers: { 'x-dest': 'ledger' } },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));

      await sendInOrder(first, app.body.id, 1, BEFORE_KILL);
      await receiver.receiver.waitFor(() => receiver.seen('ledger') >= 30, 120_000);
      await first.kill();
      const seenAtKill = receiver.seen('ledger');
      assert.ok(seenAtKill < BEFORE_KILL, 'the kill landed before the stream was through');

      const second = await startHookyard(settings);
      cleanups.push(() => second.kill());
      await sendInOrder(second, app.body.id, BEFORE_KILL + 1, BEFORE_KILL + AFTER_RESTART);
      await receiver.receiver.waitFor(() => receiver.seen('ledger') >= BEFORE_KILL + AFTER_RESTART, 180_000);
      const repeated = assertNeverReordered(
        receiver.batches('ledger'),
        BEFORE_KILL + AFTER_RESTART,
        backend.name,
      );
      t.diagnostic(`killed after ${seenAtKill} messages; ${repeated} arrived again after the restart`);
      assert.equal(receiver.maxInFlight('ledger'), 1, 'one batch at a time');
      const position = await second.api<{ currentIterator: string; status: string }>(
        'GET',
        `/api/v1/app/${app.body.id}/destination/${made.body.id}`,
      );
      assert.equal(position.body.status, 'enabled');
      await second.stop();
    });
  });
}
