import { idBoundary } from '../../domain/ids.ts';
import type { ReplayStore, ResendResult } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first } from './driver.ts';

const DEFAULT_BATCH = 1000;

/**
 * Resend and bulk replay, written so that repeating a call cannot send a message twice: a row is only
 * re-queued when it is final (success/fail), or (resend) brought forward when it is queued, held or
 * parked. A leased row is never touched. The transitions are delivery-transitions.ts.
 */
export function createReplayStore(ctx: SqlContext): ReplayStore {
  return {
    resend(appId, msgId, endpointId, now) {
      return ctx.makeDue<ResendResult>(async (tx) => {
        // The message row is locked: retention must not delete it before its new delivery commits
        // (no foreign key would stop it on PostgreSQL, migration 0009).
        const message = await first(
          tx,
          `SELECT id FROM messages WHERE app_id = ? AND id = ? ${ctx.driver.dialect.lockRowsClause}`,
          [appId, msgId],
        );
        const endpoint = await first(tx, 'SELECT id FROM endpoints WHERE app_id = ? AND id = ?', [
          appId,
          endpointId,
        ]);
        if (!message || !endpoint) return { changed: 0, value: 'missing' };
        const value = await ctx.transitions.resend(tx, appId, msgId, endpointId, now);
        return { changed: value === 'queued' ? 1 : 0, value };
      });
    },

    async replayEndpoint(endpointId, since, until, now, batchSize = DEFAULT_BATCH) {
      const end = idBoundary('delivery', until);
      let cursor = idBoundary('delivery', since);
      let inclusive = true;
      let total = 0;
      // Keyset walk in id order: a row replayed and delivered again while the walk goes on is behind
      // the cursor, so one call never re-queues a row twice.
      for (;;) {
        const range = { cursor, inclusive, end };
        const ids = await ctx.makeDue(async (tx) => {
          const replayed = await ctx.transitions.replayBatch(tx, endpointId, range, now, batchSize);
          return { changed: replayed.length, value: replayed };
        });
        total += ids.length;
        if (ids.length < batchSize) return total;
        cursor = ids.reduce((max, id) => (id > max ? id : max));
        inclusive = false;
      }
    },
  };
}
