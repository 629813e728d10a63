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
  };
}
