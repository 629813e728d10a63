import { TriggerType } from '../../domain/delivery-status.ts';
import type { ClaimedTask, IngestTaker, NewMessage } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { byDeliveryId, toClaimedTask } from './deliveries.ts';
import type { LeasedRow, NewDelivery } from './delivery-transitions.ts';
import type { SqlExecutor } from './driver.ts';
import { type EndpointPolicies, gateClaim } from './endpoint-state.ts';

/**
 * Ingest's hand-off to this process's dispatcher (IngestTaker in contract.ts), for one group-commit
 * batch:
 *
 *     reserve slots ──► transaction: lease up to that many of the new deliveries due now, insert them,
 *       (before it)      the claim's gate sorts them (held, postponed, parked, admitted)
 *                    ──► commit ──► settle: the admitted ones go to the dispatcher as tasks
 *                    └─► fails ───► settle with none (the slots come back; the rows never existed)
 *
 * What it saves, per delivery, is a whole claim: its transaction, the lease's pick and update, the
 * due-time read after a short claim, and reading the message back for its payload. The gate is the
 * claim's own (`gateClaim`), so a disabled endpoint, an open circuit, a pause or a throttle treat a
 * handed-off delivery exactly as a claimed one.
 */
export interface IngestHandOff {
  /** Inside the transaction, before the deliveries are inserted: leases those it can take. */
  lease(deliveries: NewDelivery[]): void;
  /** Inside the transaction, after the insert: runs the gate; returns how many were admitted. */
  gate(tx: SqlExecutor): Promise<number>;
  /** After the transaction: the admitted deliveries to the dispatcher if it committed, none if not. */
  settle(committed: boolean): void;
}

export function startHandOff(
  ctx: SqlContext,
  policies: EndpointPolicies,
  taker: IngestTaker,
  items: readonly NewMessage[],
  now: number,
): IngestHandOff | undefined {
  // Only deliveries due now: a scheduled message's wait for its deliverAt is the claim loop's timer.
  let due = 0;
  for (const { message, endpointIds } of items)
    if ((message.deliverAt ?? message.createdAt) <= now) due += new Set(endpointIds).size;
  if (due === 0) return undefined;
  const reservation = taker.reserve(due);
  if (!reservation || reservation.slots <= 0) {
    reservation?.settle([], false);
    return undefined;
  }
  const lease = { owner: taker.owner, until: now + taker.leaseMs };
  let leased: LeasedRow[] = [];
  let admitted: LeasedRow[] = [];

  return {
    lease(deliveries) {
      // The transaction may run more than once (a retried batch): each run starts afresh.
      leased = [];
      admitted = [];
      for (const delivery of deliveries) {
        if (leased.length === reservation.slots) break;
        if ((delivery.dueAt ?? delivery.createdAt) > now) continue;
        delivery.lease = lease;
        leased.push({
          id: delivery.id,
          app_id: delivery.appId,
          msg_id: delivery.msgId,
          endpoint_id: delivery.endpointId,
          attempts: 0,
          trigger_type: TriggerType.scheduled,
          fail_streak: 0,
        });
      }
    },

    async gate(tx) {
      if (leased.length === 0) return 0;
      admitted = await gateClaim(ctx, tx, leased, now, policies, reservation.admission(), lease);
      return admitted.length;
    },

    settle(committed) {
      if (!committed || admitted.length === 0) {
        reservation.settle([], committed);
        return;
      }
      const messages = new Map(items.map((item) => [item.message.id, item.message]));
      const tasks: ClaimedTask[] = [];
      for (const row of admitted) {
        const message = messages.get(row.msg_id);
        if (message) tasks.push(toClaimedTask(row, message));
      }
      // gateClaim returns them oldest first within an endpoint; tasks go oldest delivery first.
      reservation.settle(tasks.sort(byDeliveryId), true);
    },
  };
}
