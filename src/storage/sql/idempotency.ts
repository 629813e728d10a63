import type { IdempotencyRecord, IdempotencyStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first } from './driver.ts';

interface IdempotencyRow {
  fingerprint: string;
  status_code: number | null;
  body: string | null;
  created_at: number;
}

export function createIdempotencyStore(ctx: SqlContext): IdempotencyStore {
  const { driver } = ctx;
  return {
    async begin(scope, key, fingerprint, now) {
      // The insert is the claim; a loser reads the winner's row. Should the winner abandon in between,
      // the row is gone and the loser tries to claim again.
      for (;;) {
        const claimed = await driver.query(
          `INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT DO NOTHING RETURNING scope`,
          [scope, key, fingerprint, now],
        );
        if (claimed.length > 0) return undefined;
        const row = await first<IdempotencyRow>(
          driver,
          'SELECT fingerprint, status_code, body, created_at FROM idempotency_keys WHERE scope = ? AND key = ?',
          [scope, key],
        );
        if (row) return toRecord(row);
      }
    },

    async finish(scope, key, statusCode, body) {
      await driver.run('UPDATE idempotency_keys SET status_code = ?, body = ? WHERE scope = ? AND key = ?', [
        statusCode,
        body,
        scope,
        key,
      ]);
    },

    async abandon(scope, key) {
      await driver.run('DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND status_code IS NULL', [
        scope,
        key,
      ]);
    },

    purgeOlderThan(cutoff) {
      return driver.run('DELETE FROM idempotency_keys WHERE created_at < ?', [cutoff]);
    },
  };
}

function toRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    fingerprint: row.fingerprint,
    statusCode: row.status_code,
    body: row.body,
    createdAt: row.created_at,
  };
}
