import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createPostgresTablePublisher } from '../../src/delivery/brokers/postgres-table.ts';
import {
  assertOutcome,
  assertVerifies,
  closedPort,
  defaultGuard,
  fastBackoff,
  loopbackGuard,
  signedMessage,
  startSilentServer,
  startTcpProxy,
  uniqueName,
  until,
} from '../helpers/brokers.ts';
import { skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';

const url = testDatabaseUrl ?? '';
const schema = uniqueName('hookyard_dest');
let admin: pg.Client;

const TABLE = (name: string, payload: 'text' | 'jsonb') => `
  CREATE TABLE ${schema}.${name} (
    webhook_id text PRIMARY KEY,
    webhook_timestamp timestamptz NOT NULL,
    event_type text NOT NULL,
    webhook_signature text NOT NULL,
    payload ${payload} NOT NULL
  )`;

before(async () => {
  if (skipWithoutPostgres) return;
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(TABLE('webhooks', 'text'));
  await admin.query(TABLE('events', 'jsonb'));
});
after(async () => {
  if (skipWithoutPostgres) return;
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
});

const options = { skip: skipWithoutPostgres };

test(
  'a row is inserted with the webhook columns; the signature verifies from the text column',
  options,
  async () => {
    const publisher = createPostgresTablePublisher({ guard: loopbackGuard });
    try {
      const { message, secret, id } = signedMessage({ amount: 12, nested: { a: [1, 2] } });
      const config = { url, table: `${schema}.webhooks` };
      assertOutcome(
        await publisher.publish(config, message, 5000),
        'success',
        /^inserted into "hookyard_dest_/,
      );
      const { rows } = await admin.query(`SELECT * FROM ${schema}.webhooks WHERE webhook_id = $1`, [id]);
      const [row] = rows;
      assert.equal(row.payload, message.body);
      assert.equal(row.event_type, 'invoice.paid');
      assert.equal(row.webhook_timestamp.getTime() / 1000, Number(message.headers['webhook-timestamp']));
      assertVerifies(secret, row.payload, {
        'webhook-id': row.webhook_id,
        'webhook-timestamp': String(row.webhook_timestamp.getTime() / 1000),
        'webhook-signature': row.webhook_signature,
        'webhook-event-type': row.event_type,
      });
      // A redelivery is absorbed by the primary key.
      assertOutcome(await publisher.publish(config, message, 5000), 'success', /already present/);
      const count = await admin.query(
        `SELECT count(*)::int AS n FROM ${schema}.webhooks WHERE webhook_id = $1`,
        [id],
      );
      assert.equal(count.rows[0].n, 1);
    } finally {
      await publisher.close();
    }
  },
);

test('a jsonb payload column stores the payload as JSON', options, async () => {
  const publisher = createPostgresTablePublisher({ guard: loopbackGuard });
  try {
    const { message, id } = signedMessage({ amount: 12 });
    assertOutcome(await publisher.publish({ url, table: `${schema}.events` }, message, 5000), 'success');
    const { rows } = await admin.query(
      `SELECT payload->>'amount' AS amount FROM ${schema}.events WHERE webhook_id = $1`,
      [id],
    );
    assert.equal(rows[0].amount, '12');
  } finally {
    await publisher.close();
  }
});

test(
  'a missing table is retryable (the owner can create it); a payload jsonb refuses is permanent',
  options,
  async () => {
    const publisher = createPostgresTablePublisher({ guard: loopbackGuard });
    try {
      const missing = await publisher.publish(
        { url, table: `${schema}.nope` },
        signedMessage().message,
        5000,
      );
      assertOutcome(missing, 'retryable', /relation .* does not exist/);
      const { message } = signedMessage();
      const broken = { ...message, body: '{"unterminated": ' };
      assertOutcome(
        await publisher.publish({ url, table: `${schema}.events` }, broken, 5000),
        'permanent',
        /invalid input syntax for type json/,
      );
    } finally {
      await publisher.close();
    }
  },
);

test(
  'a server that is down is retryable at once, then backs off; a silent one times out',
  options,
  async () => {
    const silent = await startSilentServer();
    const publisher = createPostgresTablePublisher({
      guard: loopbackGuard,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    try {
      const { message } = signedMessage();
      const down = { url: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, table: 'x' };
      assertOutcome(
        await publisher.publish(down, message, 5000),
        'retryable',
        /cannot connect: .*ECONNREFUSED/,
      );
      assertOutcome(await publisher.publish(down, message, 5000), 'retryable', /next connection attempt in/);
      const hung = { url: `postgres://postgres@127.0.0.1:${silent.port}/test`, table: 'x' };
      assertOutcome(
        await publisher.publish(hung, message, 300),
        'retryable',
        /timed out|timeout|cannot connect/,
      );
    } finally {
      await publisher.close();
      await silent.close();
    }
  },
);

test('after the connection drops, the next publish reconnects', options, async () => {
  const proxy = await startTcpProxy(Number(new URL(url).port || 5432));
  const publisher = createPostgresTablePublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(proxy.port);
    const config = { url: through.href, table: `${schema}.webhooks` };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    const before = proxy.accepted();
    proxy.dropAll();
    await until(
      async () => (await publisher.publish(config, signedMessage().message, 5000)).kind === 'success',
    );
    assert.ok(proxy.accepted() > before);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('an insert waiting for its reply fails as soon as the connection drops', options, async () => {
  const proxy = await startTcpProxy(Number(new URL(url).port || 5432));
  const publisher = createPostgresTablePublisher({ guard: loopbackGuard, backoff: fastBackoff });
  try {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(proxy.port);
    const config = { url: through.href, table: `${schema}.webhooks` };
    assertOutcome(await publisher.publish(config, signedMessage().message, 5000), 'success');
    proxy.holdReplies();
    const pending = publisher.publish(config, signedMessage().message, 600_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proxy.dropAll();
    assertOutcome(await pending, 'retryable', /Connection terminated/);
  } finally {
    await publisher.close();
    await proxy.close();
  }
});

test('the address guard applies to the database host', options, async () => {
  const publisher = createPostgresTablePublisher({ guard: defaultGuard });
  try {
    const outcome = await publisher.publish({ url, table: 'x' }, signedMessage().message, 2000);
    assertOutcome(outcome, 'permanent', /blocked by the address guard/);
  } finally {
    await publisher.close();
  }
});

test(
  'a batch is one INSERT: every row commits together, in order; a batch that fails inserts none',
  options,
  async () => {
    const publisher = createPostgresTablePublisher({ guard: loopbackGuard });
    try {
      const config = { url, table: `${schema}.events` };
      const batch = [signedMessage({ n: 1 }), signedMessage({ n: 2 }), signedMessage({ n: 3 })];
      const outcome = await publisher.publishEach(
        config,
        batch.map((entry) => entry.message),
        5000,
      );
      assertOutcome(outcome, 'success', /^3 rows committed in one transaction into/);
      const ids = batch.map((entry) => entry.id);
      const rows = await admin.query(
        `SELECT webhook_id, xmin::text AS tx FROM ${schema}.events WHERE webhook_id = ANY($1)`,
        [ids],
      );
      assert.equal(rows.rows.length, 3);
      assert.equal(new Set(rows.rows.map((row) => row.tx)).size, 1, 'one transaction');
      // The same batch again: absorbed by ON CONFLICT, said so.
      const again = await publisher.publishEach(
        config,
        batch.map((entry) => entry.message),
        5000,
      );
      assertOutcome(again, 'success', /3 already present/);
      // A batch whose second row the jsonb column refuses: permanent, and its first row is not kept.
      const good = signedMessage({ n: 4 });
      const bad = { ...signedMessage().message, body: 'not json' };
      assertOutcome(await publisher.publishEach(config, [good.message, bad], 5000), 'permanent');
      const kept = await admin.query(`SELECT 1 FROM ${schema}.events WHERE webhook_id = $1`, [good.id]);
      assert.equal(kept.rows.length, 0);
    } finally {
      await publisher.close();
    }
  },
);
