import { type CensusState, CensusStates, type CensusStore, MessageStatus } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first } from './driver.ts';
import { parkedBy } from './endpoint-state.ts';

/** Verbatim the predicate of the partial index deliveries_due, so the count walks only unfinished rows. */
const UNFINISHED = `status IN (${MessageStatus.pending}, ${MessageStatus.sending})`;

/**
 * One grouped count over the unfinished deliveries (the due index, never the history of finished ones),
 * the earliest due time (one index probe), and the open circuits (one row per endpoint at most).
 */
export function createCensusStore(ctx: SqlContext): CensusStore {
  const { driver } = ctx;
  const parkedPattern = `${parkedBy('')}%`;
  return {
    async take() {
      const rows = await driver.query<{ state: CensusState; count: number | string }>(
        `SELECT CASE
             WHEN next_attempt_at IS NULL THEN 'held'
             WHEN lease_owner LIKE ? THEN 'parked'
             WHEN lease_owner IS NOT NULL THEN 'leased'
             WHEN status = ${MessageStatus.pending} THEN 'pending'
             ELSE 'retrying'
           END AS state, COUNT(*) AS count
         FROM deliveries WHERE ${UNFINISHED} GROUP BY 1`,
        [parkedPattern],
      );
      const byState = Object.fromEntries(CensusStates.map((state) => [state, 0])) as Record<
        CensusState,
        number
      >;
      for (const row of rows) byState[row.state] = Number(row.count);
      const due = await first<{ due: number | string | null }>(
        driver,
        `SELECT MIN(next_attempt_at) AS due FROM deliveries WHERE ${UNFINISHED}`,
      );
      const open = await first<{ count: number | string }>(
        driver,
        `SELECT COUNT(*) AS count FROM endpoint_state WHERE circuit = 'open'`,
      );
      return {
        byState,
        earliestDueAt: due?.due === null || due?.due === undefined ? null : Number(due.due),
        circuitsOpen: Number(open?.count ?? 0),
      };
    },
    pool: () => driver.poolStats?.(),
  };
}
