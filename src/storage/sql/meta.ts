import type { MetaStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first } from './driver.ts';

export function createMetaStore(ctx: SqlContext): MetaStore {
  const { driver } = ctx;
  return {
    async get(key) {
      const row = await first<{ value: string }>(driver, 'SELECT value FROM meta WHERE key = ?', [key]);
      return row?.value;
    },
    async set(key, value) {
      await driver.run(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, value],
      );
    },
    async setIfAbsent(key, value) {
      await driver.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [
        key,
        value,
      ]);
      const row = await first<{ value: string }>(driver, 'SELECT value FROM meta WHERE key = ?', [key]);
      if (row === undefined) throw new Error(`meta key ${key} vanished right after it was stored`);
      return row.value;
    },
    async delete(key) {
      await driver.run('DELETE FROM meta WHERE key = ?', [key]);
    },
    async entries(prefix, limit, after = '') {
      // substr rather than LIKE: prefixes hold `_`, a LIKE wildcard. The meta table is small.
      const rows = await driver.query<{ key: string; value: string }>(
        'SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? AND key > ? ORDER BY key LIMIT ?',
        [prefix.length, prefix, after, limit],
      );
      return rows.map(({ key, value }) => ({ key, value }));
    },
  };
}
