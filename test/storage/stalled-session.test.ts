/**
 * A fleet's writers share rows: every completion locks its endpoint's `endpoint_state` and
 * `endpoint_stats` rows. A process that stops in the middle of a transaction (frozen, SIGSTOPped, cut
 * off by the network) must not hold those locks for as long as it stays stopped, or every other
 * worker's completions wait behind it, and with them their delivery slots (test/e2e/fleet.test.ts
 * saw a lone worker deliver nothing for 90 s that way). PostgreSQL only: SQLite has one writer process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageStatus, StorageUnavailable } from '../../src/storage/contract.ts';
import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from '../../src/storage/postgres/postgres-driver.ts';
import { backends, POSTGRES_SKIP_MESSAGE } from '../helpers/backends.ts';
import { startTcpProxy, until } from '../helpers/brokers.ts';
import { appWithEndpoints, message, outcome } from './fixtures.ts';

const postgres = backends().find((backend) => backend.name === 'postgres');
const baseUrl = process.env['HOOKYARD_TEST_DATABASE_URL'];

test('a writer stalled inside a completion does not block another writer’s completions for long', {
  skip: postgres ? false : POSTGRES_SKIP_MESSAGE,
  timeout: 120_000,
}, async (t) => {
  const storage = await postgres!.create();
  const target = new URL(baseUrl!);
  const proxy = await startTcpProxy(Number(target.port || 5432));
  // The proxy first: closing it ends the stalled session, whose locks would block the schema's drop.
  t.after(async () => {
    await proxy.close();
    await storage.cleanup();
  });
  const proxied = new URL(baseUrl!);
  proxied.host = `127.0.0.1:${proxy.port}`;
  // The stalled writer reaches the database through the proxy, which will stop passing its replies.
  const stalled = await storage.openAnother({ databaseUrl: proxied.toString() });

  const { app, endpoints } = await appWithEndpoints(storage, 1);
  for (let i = 0; i < 2; i++)
    await storage.messages.ingest({ message: message(app.id), endpointIds: [endpoints[0]!.id] });
  const now = Date.now();
  const [mine] = await stalled.deliveries.claim('stalled', 1, now, 60_000);
  const [theirs] = await storage.deliveries.claim('healthy', 1, now, 60_000);
  assert.ok(mine && theirs);
  // Both attempts in one minute: both completions add to the same endpoint_stats row.
  const at = Math.floor(now / 60_000) * 60_000 + 1_000;

  // The stalled writer's completion gets as far as its stats upsert (the server runs it and takes the
  // row lock) and then hears nothing back: it sends no further statement, as a frozen process would not.
  const held = proxy.holdRepliesAfter('INSERT INTO endpoint_stats');
  const stalledCompletion = stalled.deliveries.complete([outcome(mine, MessageStatus.success, { at })]);
  stalledCompletion.catch(() => {});
  const clientPort = await held;
  const { default: pg } = await import('pg');
  const observer = new pg.Client({ connectionString: baseUrl });
  await observer.connect();
  t.after(() => observer.end());
  await until(async () => {
    const { rows } = await observer.query(
      `SELECT 1 FROM pg_stat_activity WHERE client_port = $1 AND state = 'idle in transaction'`,
      [clientPort],
    );
    return rows.length > 0;
  }, 30_000);

  // The healthy writer's completion commits once the server has ended the stalled session. A bound on
  // a hang, not a speed target: without one, it waits for as long as the other process stays stopped.
  const committed = storage.deliveries.complete([outcome(theirs, MessageStatus.success, { at })]);
  let bound: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    bound = setTimeout(() => resolve('hung'), IDLE_IN_TRANSACTION_TIMEOUT_MS + 60_000);
  });
  const result = await Promise.race([committed.then(() => 'committed' as const), hung]);
  clearTimeout(bound);
  assert.equal(result, 'committed', 'the completion waited behind a stalled session');
  assert.equal(
    (await storage.deliveries.get(theirs.msgId, theirs.endpointId))?.status,
    MessageStatus.success,
  );

  // The stalled writer learns its transaction is gone (it is not told it committed); its delivery
  // stays leased to it and comes due again when the lease lapses, as after a crash.
  await assert.rejects(stalledCompletion, StorageUnavailable);
  const lost = await storage.deliveries.get(mine.msgId, mine.endpointId);
  assert.equal(lost?.status, MessageStatus.pending);
  assert.equal(lost?.nextAttemptAt, now + 60_000);
});
