import { type CensusState, CensusStates, type CensusStore, MessageStatus } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { parkedBy, UNFINISHED } from './delivery-transitions.ts';
import { first } from './driver.ts';

/** Reads the delivery states of delivery-transitions.ts (its state table); writes nothing. */
export function createCensusStore(ctx: SqlContext): CensusStore {
  const { driver } = ctx;
  const parkedPattern = `${parkedBy('')}%`;
  return {
    async countByState() {
      // One grouped count over the unfinished deliveries, never the history of finished ones.
      const rows = await driver.query<{ state: CensusState; count: number | string }>(
        `SELECT CASE
             WHEN next_attempt_at IS NULL THEN 'held'
             WHEN lease_owner LIKE ? THEN 'parked'
             WHEN lease_owner IS NOT NULL THEN 'leased'
             WHEN status = ${MessageStatus.pending} THEN 'pending'
             ELSE 'sending'
           END AS state, COUNT(*) AS count
         FROM deliveries WHERE ${UNFINISHED} GROUP BY 1`,
        [parkedPattern],
      );
      const counts = Object.fromEntries(CensusStates.map((state) => [state, 0])) as Record<
        CensusState,
        number
      >;
      for (const row of rows) counts[row.state] = Number(row.count);
      return counts;
    },
    async circuitsOpen() {
      const row = await first<{ count: number | string }>(
        driver,
        `SELECT COUNT(*) AS count FROM endpoint_state WHERE circuit = 'open'`,
      );
      return Number(row?.count ?? 0);
    },
    pool: () => driver.poolStats?.(),
  };
}
