import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSessionStore } from '../../src/ui/session-store.ts';
import { forEachBackend } from '../helpers/backends.ts';

const HOUR = 3_600_000;

forEachBackend((backend) => {
  test('meta entries by prefix, in key order, paged; a prefix with _ is not a wildcard', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    for (const key of ['a_b:2', 'a_b:1', 'a_b:3', 'axb:1', 'a_c:1']) await storage.meta.set(key, key);
    const first = await storage.meta.entries('a_b:', 2);
    assert.deepEqual(
      first.map((entry) => entry.key),
      ['a_b:1', 'a_b:2'],
    );
    const rest = await storage.meta.entries('a_b:', 2, first.at(-1)?.key);
    assert.deepEqual(rest, [{ key: 'a_b:3', value: 'a_b:3' }]);
    await storage.meta.delete('a_b:2');
    assert.equal(await storage.meta.get('a_b:2'), undefined);
    assert.equal((await storage.meta.entries('a_b:', 10)).length, 2);
  });

  test('setIfAbsent: concurrent writers from two storages all get the first stored value', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const other = await storage.openAnother();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? other : storage).meta.setIfAbsent('k', `v${i}`)),
    );
    assert.equal(new Set(results).size, 1, 'everyone sees one value');
    assert.equal(await storage.meta.get('k'), results[0]);
    assert.equal(await storage.meta.setIfAbsent('k', 'later'), results[0], 'a stored value stays');
  });

  test('dashboard sessions: signing out deletes the record, and a sign-in sweeps the expired ones', async (t) => {
    const storage = await backend.create();
    t.after(() => storage.cleanup());
    const sessions = createSessionStore(storage.meta, HOUR);
    const stored = async () => (await storage.meta.entries('ui_session:', 100)).length;

    const old = await sessions.create(0);
    const signedOut = await sessions.create(0);
    await sessions.revoke(signedOut.id);
    assert.equal(await stored(), 1, 'signing out removed its record');
    assert.equal(await sessions.get(signedOut.id, 1), undefined);

    // Two hours on: the first session has expired, and the next sign-in removes it.
    const fresh = await sessions.create(2 * HOUR);
    assert.equal(await stored(), 1);
    assert.equal(await sessions.get(old.id, 2 * HOUR), undefined);
    assert.ok(await sessions.get(fresh.id, 2 * HOUR + 1));
  });
});
