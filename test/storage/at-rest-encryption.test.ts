import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { configWith } from '../../src/config/load.ts';
import { newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { EndpointRecord, Storage } from '../../src/storage/contract.ts';
import { createStorage, SQLITE_FILE_NAME, UnknownEncryptionKey } from '../../src/storage/create-storage.ts';
import { SEALED_PREFIX } from '../../src/storage/sealing.ts';
import { POSTGRES_SKIP_MESSAGE } from '../helpers/backends.ts';

/**
 * Encryption at rest, checked on the raw rows of both databases: with HOOKYARD_ENCRYPTION_KEY set no
 * secret, key or broker password is in the row; rows from before the key still read; a key taken
 * away stops start-up; `reseal` (hookyard reencrypt) moves rows to the current key or to plaintext.
 */
const silent = createLogger('silent', false);
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const CLIENT_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtestonlytestonly\n-----END PRIVATE KEY-----';
const BROKER_PASSWORD = 'broker-pa55word';
const key = () => randomBytes(32).toString('base64');

interface Database {
  open(encryptionKey: string, options?: { writePlaintext?: boolean }): Promise<Storage>;
  /** The endpoint row's credential columns exactly as stored. */
  raw(id: string): Promise<{ secrets: string; config: string | null; egress: string | null }>;
  destroy(): Promise<void>;
}

async function sqlite(): Promise<Database> {
  const dir = await mkdtemp(join(tmpdir(), 'hookyard-at-rest-'));
  return {
    open: (encryptionKey, options = {}) =>
      createStorage({
        config: configWith({ dataDir: dir, databaseUrl: '', diskReserve: '0', encryptionKey }),
        logger: silent,
        ...options,
      }),
    async raw(id) {
      const db = new DatabaseSync(join(dir, SQLITE_FILE_NAME), { readOnly: true });
      try {
        return db.prepare('SELECT secrets, config, egress FROM endpoints WHERE id = ?').get(id) as never;
      } finally {
        db.close();
      }
    },
    destroy: () => rm(dir, { recursive: true, force: true }),
  };
}

async function postgres(url: string): Promise<Database> {
  const schema = `hy_atrest_${process.pid}_${randomBytes(3).toString('hex')}`;
  const { default: pg } = await import('pg');
  const query = async (sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    open: (encryptionKey, options = {}) =>
      createStorage({
        config: configWith({ databaseUrl: url, encryptionKey }),
        logger: silent,
        schema,
        poolSize: 2,
        ...options,
      }),
    async raw(id) {
      const rows = await query(`SELECT secrets, config, egress FROM ${schema}.endpoints WHERE id = $1`, [id]);
      return rows[0] as never;
    },
    destroy: async () => {
      await query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

async function seed(storage: Storage): Promise<{ http: EndpointRecord; broker: EndpointRecord }> {
  const now = Date.now();
  const app = await storage.applications.create({
    id: newId('application', now),
    uid: null,
    name: 'at rest',
    throttleRate: null,
    metadata: {},
    createdAt: now,
    updatedAt: now,
  });
  const base = {
    appId: app.id,
    uid: null,
    description: '',
    disabled: false,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    headers: {},
    secrets: [{ key: SECRET, expiresAt: null }],
    createdAt: now,
    updatedAt: now,
  };
  const http = await storage.endpoints.create({
    ...base,
    id: newId('endpoint', now),
    url: 'https://127.0.0.1:9/hook',
    egress: {
      clientCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      clientKey: CLIENT_KEY,
      caBundle: null,
      proxy: { kind: 'proxy', url: 'http://hooks:proxy-pa55@127.0.0.1:3128' },
    },
  });
  const broker = await storage.endpoints.create({
    ...base,
    id: newId('endpoint', now + 1),
    url: 'amqp://127.0.0.1:5672',
    destination: {
      type: 'rabbitMq',
      config: { uri: `amqp://hooks:${BROKER_PASSWORD}@127.0.0.1:5672`, routingKey: 'k' },
    },
  });
  return { http, broker };
}

function assertSealed(row: { secrets: string; config: string | null; egress: string | null }): void {
  const text = JSON.stringify(row);
  for (const secret of [SECRET, SECRET.slice(6, 30), 'testonlytestonly', BROKER_PASSWORD, 'proxy-pa55'])
    assert.ok(!text.includes(secret), `the raw row holds ${secret}`);
  assert.ok(row.secrets.startsWith(SEALED_PREFIX), row.secrets);
  for (const value of [row.config, row.egress])
    if (value !== null) assert.ok(value.startsWith(SEALED_PREFIX), value);
}

function atRestTests(make: () => Promise<Database>): void {
  test('with a key, the raw row holds no secret, client key or broker password; reads give them back', async (t) => {
    const db = await make();
    t.after(() => db.destroy());
    const storage = await db.open(key());
    t.after(() => storage.close());
    const { http, broker } = await seed(storage);
    assertSealed(await db.raw(http.id));
    assertSealed(await db.raw(broker.id));
    assert.notEqual((await db.raw(broker.id)).config, null);
    assert.deepEqual(await storage.endpoints.get(http.appId, http.id), http);
    assert.deepEqual(await storage.endpoints.get(broker.appId, broker.id), broker);
    // Every read path opens them: the fan-out list, the by-id batch, and an update round trip.
    assert.equal(
      (await storage.endpoints.listAll(http.appId)).find((e) => e.id === http.id)?.egress?.clientKey,
      CLIENT_KEY,
    );
    assert.equal(
      (await storage.endpoints.getMany([broker.id]))[0]?.destination?.config['uri'],
      broker.destination?.config['uri'],
    );
    const rotated = {
      ...http,
      secrets: [{ key: `whsec_${randomBytes(24).toString('base64')}`, expiresAt: null }, ...http.secrets],
    };
    assert.deepEqual((await storage.endpoints.update(rotated))?.secrets, rotated.secrets);
    assertSealed(await db.raw(http.id));
  });

  test('rows written before the key was set still read; reseal encrypts them; a missing key stops start-up', async (t) => {
    const db = await make();
    t.after(() => db.destroy());
    const plain = await db.open('');
    const { http } = await seed(plain);
    await plain.close();
    assert.ok((await db.raw(http.id)).secrets.includes(SECRET), 'written in plaintext without a key');

    const first = key();
    let storage = await db.open(first);
    assert.deepEqual((await storage.endpoints.get(http.appId, http.id))?.secrets, http.secrets);
    assert.equal(await storage.endpoints.reseal(), 2);
    assertSealed(await db.raw(http.id));
    await storage.close();

    // Removed, or replaced without the old one: start-up stops with one line naming the setting.
    for (const given of ['', key()]) {
      await assert.rejects(db.open(given), (error: Error) => {
        assert.ok(error instanceof UnknownEncryptionKey);
        assert.match(error.message, /^HOOKYARD_ENCRYPTION_KEY .*key [0-9a-f]{8}/);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }

    // Rotation: the new key first, the old one after it; reseal; then the old one can go.
    const second = key();
    storage = await db.open(`${second},${first}`);
    assert.equal(await storage.endpoints.reseal(), 2);
    await storage.close();
    storage = await db.open(second);
    assert.deepEqual((await storage.endpoints.get(http.appId, http.id))?.egress, http.egress);
    await storage.close();

    // Turning it off: decrypt everything with the key still given, then start without it.
    storage = await db.open(second, { writePlaintext: true });
    assert.equal(await storage.endpoints.reseal(), 2);
    await storage.close();
    assert.ok((await db.raw(http.id)).secrets.includes(SECRET));
    storage = await db.open('');
    assert.deepEqual((await storage.endpoints.get(http.appId, http.id))?.secrets, http.secrets);
    await storage.close();
  });
}

describe('sqlite', () => atRestTests(sqlite));
const url = process.env['HOOKYARD_TEST_DATABASE_URL'];
if (url) describe('postgres', () => atRestTests(() => postgres(url)));
else test('postgres', { skip: POSTGRES_SKIP_MESSAGE }, () => {});
