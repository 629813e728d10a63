/**
 * The explorer over more messages than one page examines (EXPLORE_SCAN_LIMIT): the API marks a page
 * that stopped at the limit `partial` with an iterator that goes on from where it stopped, and the
 * server-rendered page says so and links to the next page instead of claiming that nothing matches.
 * The messages are written with the data-scale bench's bulk filler (1 in 100 of the rare type).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { fillSqlite, planHistory, rareEventType } from '../../bench/history-fill.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { EXPLORE_SCAN_LIMIT } from '../../src/storage/contract.ts';
import { SQLITE_FILE_NAME } from '../../src/storage/create-storage.ts';
import { createProductionUi, type UiRuntime } from '../../src/ui/ui-runtime.ts';
import { backends, type TestStorage } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/pipeline.ts';
import { appWithEndpoints } from '../storage/fixtures.ts';

const TOKEN = 'explorer-limit-admin-token-0123456789';
const size = EXPLORE_SCAN_LIMIT + 150;
let storage: TestStorage;
let ui: UiRuntime;
let app: FastifyInstance;

before(async () => {
  const [sqlite] = backends();
  if (!sqlite) throw new Error('no SQLite backend');
  storage = await sqlite.create();
  const { app: application, endpoints } = await appWithEndpoints(storage);
  const endpoint = endpoints[0]!;
  fillSqlite(
    join(storage.config.dataDir, SQLITE_FILE_NAME),
    { appId: application.id, endpointId: endpoint.id, url: endpoint.url },
    planHistory(size, 1),
  );
  const made = await createProductionUi();
  if (!made) throw new Error('the dashboard is not built and cannot be built here');
  ui = made;
  app = await buildApp({
    config: storage.config,
    storage,
    logger: silentLogger,
    adminTokenHash: hashToken(TOKEN),
    ui,
  });
  await app.ready();
});
after(async () => {
  await app.close();
  await ui.close();
  await storage.cleanup();
});

interface ListBody {
  data: Array<{ id: string; eventType: string }>;
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
  partial: boolean;
}

async function list(query: string): Promise<ListBody> {
  const response = await app.inject({
    method: 'GET',
    url: `/api/v1/msg${query}`,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as ListBody;
}

test('a page that stops at the scan limit is partial and its iterator goes on from there', async () => {
  const first = await list(`?event_types=${rareEventType}&limit=250`);
  assert.equal(first.partial, true);
  assert.equal(first.done, false);
  assert.equal(first.data.length, EXPLORE_SCAN_LIMIT / 100);
  assert.ok(first.data.every((message) => message.eventType === rareEventType));
  assert.ok(first.iterator && first.iterator < (first.data.at(-1)?.id ?? ''), 'past the last match');
  const rest = await list(`?event_types=${rareEventType}&limit=250&iterator=${first.iterator}`);
  assert.equal(rest.partial, false);
  assert.equal(rest.done, true);
  assert.equal(first.data.length + rest.data.length, Math.ceil(size / 100));

  // Nothing matching: an empty partial page that still leads on, then the end.
  const none = await list('?event_types=nobody.sends.this');
  assert.deepEqual([none.data.length, none.partial, none.done], [0, true, false]);
  assert.ok(none.iterator);
  const end = await list(`?event_types=nobody.sends.this&iterator=${none.iterator}`);
  assert.deepEqual([end.data.length, end.partial, end.done], [0, false, true]);

  // Unfiltered and common filters fill their pages as before.
  const plain = await list('?limit=5');
  assert.deepEqual([plain.data.length, plain.partial, plain.done], [5, false, false]);
});

test('the explorer page says it looked at 10,000 messages and links to the next page', async () => {
  const login = await app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'localhost',
      origin: 'http://localhost',
    },
    payload: `token=${TOKEN}`,
  });
  const cookie = String(login.headers['set-cookie']).split(';')[0] as string;
  const page = await app.inject({
    method: 'GET',
    url: '/ui/messages?eventType=nobody.sends.this',
    headers: { cookie },
  });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /No match<!-- --> among the 10,000/);
  assert.doesNotMatch(page.body, /No message matches/);
  assert.match(
    page.body,
    /href="\/ui\/messages\?eventType=nobody\.sends\.this&amp;iterator=msg_[0-9A-Za-z]{27}"[^>]*>Next page/,
  );
});
