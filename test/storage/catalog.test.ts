import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ChangeEvent, UniqueViolation } from '../../src/storage/contract.ts';
import { createEndpointCache } from '../../src/storage/endpoint-cache.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { application, endpoint } from './fixtures.ts';

forEachBackend((backend) => {
  test('applications: create, get by id or uid, update, delete', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const app = application({ uid: 'acme', metadata: { plan: 'pro' } });
    assert.deepEqual(await storage.applications.create(app), app);
    assert.deepEqual(await storage.applications.get(app.id), app);
    assert.deepEqual(await storage.applications.get('acme'), app);
    assert.equal(await storage.applications.get('nope'), undefined);

    const updated = { ...app, name: 'Acme Inc', throttleRate: 10, updatedAt: app.updatedAt + 1 };
    assert.deepEqual(await storage.applications.update(updated), updated);
    assert.equal(await storage.applications.update(application()), undefined);

    assert.equal(await storage.applications.delete(app.id), true);
    assert.equal(await storage.applications.delete(app.id), false);
    assert.equal(await storage.applications.get(app.id), undefined);
  });

  test('unique violations: application uid, endpoint uid per app, event type name', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const app = await storage.applications.create(application({ uid: 'taken' }));
    await assert.rejects(storage.applications.create(application({ uid: 'taken' })), UniqueViolation);
    const other = await storage.applications.create(application({ uid: 'other' }));
    await assert.rejects(storage.applications.update({ ...other, uid: 'taken' }), UniqueViolation);

    await storage.endpoints.create(endpoint(app.id, { uid: 'ep' }));
    await assert.rejects(storage.endpoints.create(endpoint(app.id, { uid: 'ep' })), UniqueViolation);
    await storage.endpoints.create(endpoint(other.id, { uid: 'ep' }));

    const now = Date.now();
    const type = {
      name: 'user.created',
      description: '',
      archived: false,
      deprecated: false,
      featureFlag: null,
      schemas: null,
      createdAt: now,
      updatedAt: now,
    };
    await storage.eventTypes.create(type);
    await assert.rejects(storage.eventTypes.create(type), UniqueViolation);
  });

  test('applications paginate newest first, both directions, with done flags', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const base = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await storage.applications.create(application({ createdAt: base + i }))).id);
    const newestFirst = [...ids].reverse();

    const first = await storage.applications.list({ limit: 2 });
    assert.deepEqual(
      first.data.map((a) => a.id),
      newestFirst.slice(0, 2),
    );
    assert.equal(first.done, false);
    const second = await storage.applications.list({ limit: 2, iterator: first.data.at(-1)?.id });
    assert.deepEqual(
      second.data.map((a) => a.id),
      newestFirst.slice(2, 4),
    );
    const third = await storage.applications.list({ limit: 2, iterator: second.data.at(-1)?.id });
    assert.deepEqual(
      third.data.map((a) => a.id),
      newestFirst.slice(4),
    );
    assert.equal(third.done, true);

    // Walking back from the third page's first row: the page before it, still newest first.
    const back = await storage.applications.list({ limit: 2, iterator: third.data[0]?.id, reverse: true });
    assert.deepEqual(
      back.data.map((a) => a.id),
      newestFirst.slice(2, 4),
    );
    assert.equal(back.done, false);
    const backAgain = await storage.applications.list({
      limit: 2,
      iterator: back.data[0]?.id,
      reverse: true,
    });
    assert.deepEqual(
      backAgain.data.map((a) => a.id),
      newestFirst.slice(0, 2),
    );
    assert.equal(backAgain.done, true);
    const exact = await storage.applications.list({ limit: 5 });
    assert.equal(exact.done, true);
  });

  test('event types: ordered by name, archive versus expunge', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const now = Date.now();
    for (const name of ['b.two', 'a.one', 'c.three', 'B.upper']) {
      await storage.eventTypes.create({
        name,
        description: name,
        archived: false,
        deprecated: false,
        featureFlag: null,
        schemas: name === 'a.one' ? { '1': { type: 'object' } } : null,
        createdAt: now,
        updatedAt: now,
      });
    }
    const all = await storage.eventTypes.list({ limit: 10 }, { includeArchived: false });
    assert.deepEqual(
      all.data.map((e) => e.name),
      ['B.upper', 'a.one', 'b.two', 'c.three'],
    );
    assert.deepEqual(all.data[1]?.schemas, { '1': { type: 'object' } });
    const page = await storage.eventTypes.list({ limit: 2, iterator: 'a.one' }, { includeArchived: false });
    assert.deepEqual(
      page.data.map((e) => e.name),
      ['b.two', 'c.three'],
    );
    assert.equal(page.done, true);
    const back = await storage.eventTypes.list(
      { limit: 2, iterator: 'c.three', reverse: true },
      { includeArchived: false },
    );
    assert.deepEqual(
      back.data.map((e) => e.name),
      ['a.one', 'b.two'],
    );
    assert.equal(back.done, false);

    assert.equal(await storage.eventTypes.delete('b.two', false), true);
    assert.equal((await storage.eventTypes.get('b.two'))?.archived, true);
    const visible = await storage.eventTypes.list({ limit: 10 }, { includeArchived: false });
    assert.equal(visible.data.length, 3);
    const withArchived = await storage.eventTypes.list({ limit: 10 }, { includeArchived: true });
    assert.equal(withArchived.data.length, 4);
    assert.equal(await storage.eventTypes.delete('b.two', true), true);
    assert.equal(await storage.eventTypes.get('b.two'), undefined);
    assert.equal(await storage.eventTypes.delete('missing', false), false);

    const updated = await storage.eventTypes.update({
      ...(await storage.eventTypes.get('a.one'))!,
      deprecated: true,
      featureFlag: 'beta',
    });
    assert.equal(updated?.deprecated, true);
    assert.equal(updated?.featureFlag, 'beta');
  });

  test('endpoints: per-application get by id or uid, list, listAll, getMany, update, delete', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const app = await storage.applications.create(application());
    const other = await storage.applications.create(application());
    const base = Date.now();
    const a = await storage.endpoints.create(
      endpoint(app.id, {
        uid: 'primary',
        createdAt: base,
        eventTypes: ['user.created'],
        channels: ['eu'],
        headers: { 'x-a': '1' },
      }),
    );
    const b = await storage.endpoints.create(endpoint(app.id, { createdAt: base + 1, disabled: true }));
    const c = await storage.endpoints.create(endpoint(other.id, { uid: 'primary' }));

    assert.deepEqual(await storage.endpoints.get(app.id, 'primary'), a);
    assert.deepEqual(await storage.endpoints.get(app.id, b.id), b);
    assert.equal(await storage.endpoints.get(app.id, c.id), undefined);
    assert.deepEqual(
      (await storage.endpoints.list(app.id, { limit: 10 })).data.map((e) => e.id),
      [b.id, a.id],
    );
    assert.deepEqual(
      (await storage.endpoints.listAll(app.id)).map((e) => e.id),
      [a.id, b.id],
    );
    assert.deepEqual(
      (await storage.endpoints.getMany([c.id, a.id, 'ep_missing'])).map((e) => e.id).sort(),
      [a.id, c.id].sort(),
    );
    assert.deepEqual(await storage.endpoints.getMany([]), []);

    const rotated = {
      ...a,
      url: 'https://new.example/',
      secrets: [
        { key: 'whsec_new', expiresAt: null },
        { key: 'whsec_old', expiresAt: base + 1000 },
      ],
      channels: null,
    };
    assert.deepEqual(await storage.endpoints.update(rotated), rotated);
    assert.equal(await storage.endpoints.update({ ...c, appId: app.id }), undefined);
    assert.equal(await storage.endpoints.delete(other.id, a.id), false);
    assert.equal(await storage.endpoints.delete(app.id, a.id), true);
    assert.deepEqual(
      (await storage.endpoints.listAll(app.id)).map((e) => e.id),
      [b.id],
    );
    // Deleting the application takes its endpoints along.
    await storage.applications.delete(app.id);
    assert.deepEqual(await storage.endpoints.listAll(app.id), []);
  });

  test('committed mutations publish change events; the endpoint cache follows them', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const events: ChangeEvent[] = [];
    const unsubscribe = storage.subscribe((event) => events.push(event));
    const app = await storage.applications.create(application());
    const ep = await storage.endpoints.create(endpoint(app.id));
    await assert.rejects(storage.applications.create({ ...application(), id: app.id }));
    assert.deepEqual(events, [
      { kind: 'application', appId: app.id, id: app.id },
      { kind: 'endpoint', appId: app.id, id: ep.id },
    ]);

    const cache = createEndpointCache(storage, { ttlMs: 60_000 });
    t.after(() => cache.close());
    assert.deepEqual(
      (await cache.forApp(app.id)).map((e) => e.id),
      [ep.id],
    );
    assert.equal((await cache.get(ep.id))?.url, ep.url);
    const second = await storage.endpoints.create(endpoint(app.id));
    await storage.endpoints.update({ ...ep, url: 'https://changed.example/' });
    assert.deepEqual(
      (await cache.forApp(app.id)).map((e) => e.id),
      [ep.id, second.id],
    );
    assert.equal((await cache.get(ep.id))?.url, 'https://changed.example/');
    await storage.applications.delete(app.id);
    assert.deepEqual(await cache.forApp(app.id), []);
    assert.equal(await cache.get(ep.id), undefined);

    unsubscribe();
    await storage.applications.create(application());
    assert.equal(events.length, 5);
  });

  test('the cache serves applications by id or uid and drops them when any application changes', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const cache = createEndpointCache(storage, { ttlMs: 60_000 });
    t.after(() => cache.close());
    assert.equal(await cache.application('acme'), undefined);
    const app = await storage.applications.create(application({ uid: 'acme', name: 'Acme' }));
    assert.equal((await cache.application('acme'))?.id, app.id, 'a cached miss is dropped by the create');
    assert.equal((await cache.application(app.id))?.name, 'Acme');
    await storage.applications.update({ ...app, name: 'Acme Inc.', uid: 'acme-inc' });
    assert.equal((await cache.application(app.id))?.name, 'Acme Inc.');
    assert.equal(await cache.application('acme'), undefined, 'the old uid no longer resolves');
    await storage.applications.delete(app.id);
    assert.equal(await cache.application(app.id), undefined);
  });

  test('the endpoint cache expires entries after its TTL', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    let now = 0;
    // A storage whose change events never arrive, like another process's writes without NOTIFY.
    const deaf = Object.create(storage, { subscribe: { value: () => () => {} } }) as typeof storage;
    const cache = createEndpointCache(deaf, { ttlMs: 1000, clock: () => now });
    t.after(() => cache.close());
    const app = await storage.applications.create(application());
    assert.deepEqual(await cache.forApp(app.id), []);
    await storage.endpoints.create(endpoint(app.id));
    now = 999;
    assert.deepEqual(await cache.forApp(app.id), []);
    now = 1000;
    assert.equal((await cache.forApp(app.id)).length, 1);
  });
});
