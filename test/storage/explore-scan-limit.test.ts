/**
 * The explorer's scan limit: a filter checked on each candidate (event type, channel, status) examines
 * at most EXPLORE_SCAN_LIMIT messages per page, says where it stopped, and the next page goes on from
 * there, so walking the pages still finds every match exactly once, in order. Needs more messages
 * than the limit: they are written with the data-scale bench's bulk filler (one delivery, succeeded,
 * per message; 1 in 100 of the rare event type), on the schema Hookyard's migrations make.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fillPostgres, fillSqlite, planHistory, rareEventType } from '../../bench/history-fill.ts';
import { configWith } from '../../src/config/load.ts';
import { createLogger } from '../../src/log/logger.ts';
import {
  EXPLORE_SCAN_LIMIT,
  type ExploreFilter,
  MessageStatus,
  type PageQuery,
  type Storage,
} from '../../src/storage/contract.ts';
import { createStorage, SQLITE_FILE_NAME } from '../../src/storage/create-storage.ts';
import { createTestDatabase, skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';
import { appWithEndpoints } from './fixtures.ts';

const silent = createLogger('silent', false);
const size = EXPLORE_SCAN_LIMIT + 150;

/** Every page of a walk, following `stoppedAt` (or the last row) as the API's iterator does. */
async function walk(storage: Storage, filter: ExploreFilter, limit: number, reverse = false) {
  const pages: Array<{ ids: string[]; stopped: boolean }> = [];
  let iterator: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const query: PageQuery = { limit, iterator, reverse };
    const page = await storage.explore.listMessages(filter, query);
    pages.push({ ids: page.data.map((message) => message.id), stopped: page.stoppedAt !== undefined });
    if (page.done) return pages;
    const edge = reverse ? page.data[0] : page.data.at(-1);
    iterator = page.stoppedAt ?? edge?.id;
    assert.ok(iterator, 'a page that is not done says where to go on');
  }
  throw new Error('the walk did not end');
}

async function checkScanLimit(storage: Storage, appId: string) {
  const every = await storage.messages.list(appId, {}, { limit: 250 });
  assert.equal(every.data.length, 250);

  // The rare type: about 100 in the newest 10,000 (one page, stopped at the limit), then the rest.
  const rare = await walk(storage, { eventTypes: [rareEventType] }, 250);
  const found = rare.flatMap((page) => page.ids);
  assert.equal(found.length, Math.ceil(size / 100));
  assert.deepEqual(found, [...found].sort().reverse(), 'newest first, each once');
  assert.equal(rare[0]?.stopped, true);
  assert.equal(rare[0]?.ids.length, EXPLORE_SCAN_LIMIT / 100);
  assert.equal(rare.at(-1)?.stopped, false);

  // Walking back from the oldest gives the same matches, oldest page first.
  const back = await walk(storage, { eventTypes: [rareEventType] }, 250, true);
  assert.deepEqual(
    back
      .reverse()
      .flatMap((page) => page.ids)
      .sort()
      .reverse(),
    found,
  );

  // No match at all: an empty page that stopped, then the remainder, done; never a walk of everything.
  const none = await walk(storage, { eventTypes: ['nobody.sends.this'] }, 20);
  assert.deepEqual(
    none.map((page) => page.ids.length),
    [0, 0],
  );
  assert.deepEqual(
    none.map((page) => page.stopped),
    [true, false],
  );
  const failed = await walk(storage, { status: MessageStatus.fail }, 20);
  assert.deepEqual(
    failed.map((page) => page.stopped),
    [true, false],
  );

  // A filter the walk itself satisfies (the application) needs no limit; a page that fills up within
  // the limit is an ordinary page.
  const byApp = await storage.explore.listMessages({ appId }, { limit: 20 });
  assert.equal(byApp.data.length, 20);
  assert.equal(byApp.stoppedAt, undefined);
  const common = await storage.explore.listMessages({ eventTypes: ['invoice.paid'] }, { limit: 20 });
  assert.equal(common.data.length, 20);
  assert.equal(common.done, false);
  assert.equal(common.stoppedAt, undefined);
}

describe('explorer scan limit', () => {
  test('sqlite', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'hookyard-explore-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const storage = await createStorage({
      config: configWith({ dataDir: dir, databaseUrl: '' }),
      logger: silent,
    });
    t.after(() => storage.close());
    const { app, endpoints } = await appWithEndpoints(storage);
    const endpoint = endpoints[0]!;
    fillSqlite(
      join(dir, SQLITE_FILE_NAME),
      { appId: app.id, endpointId: endpoint.id, url: endpoint.url },
      planHistory(size, 1),
    );
    await checkScanLimit(storage, app.id);
  });

  test('postgres', { skip: skipWithoutPostgres }, async (t) => {
    const database = await createTestDatabase(testDatabaseUrl!, 'explore');
    t.after(() => database.drop());
    const storage = await createStorage({
      config: configWith({ databaseUrl: database.url }),
      logger: silent,
    });
    t.after(() => storage.close());
    const { app, endpoints } = await appWithEndpoints(storage);
    const endpoint = endpoints[0]!;
    await fillPostgres(
      database.url,
      { appId: app.id, endpointId: endpoint.id, url: endpoint.url },
      planHistory(size, 1),
    );
    await checkScanLimit(storage, app.id);
  });
});
