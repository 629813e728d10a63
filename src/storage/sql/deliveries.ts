import { events } from '../../observability/events.ts';
import type {
  AttemptOutcome,
  ClaimedTask,
  CompletionReport,
  DeliveryRecord,
  DeliveryStore,
  EndpointRecord,
  MessageRecord,
  TriggerType,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import type { LeasedRow } from './delivery-transitions.ts';
import { first, placeholders, type SqlExecutor } from './driver.ts';
import { type EndpointPolicies, foldOutcomes, gateClaim, reportPerItem } from './endpoint-state.ts';
import { createGroupCommit } from './group-commit.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import {
  columns,
  type DeliveryRow,
  type EndpointRow,
  type MessageRow,
  prefixed,
  toDelivery,
  toEndpoint,
  toMessage,
  unprefix,
} from './rows.ts';
import { rollUpAttempts } from './stats.ts';

const COLUMNS = columns.deliveries.join(', ');

export interface SqlDeliveryStore extends DeliveryStore {
  drain(): Promise<void>;
}

export function createDeliveryStore(ctx: SqlContext, policies: EndpointPolicies): SqlDeliveryStore {
  const { driver, transitions } = ctx;

  const completions = createGroupCommit<readonly AttemptOutcome[], CompletionReport>({
    ...ctx.groupCommit,
    kind: 'completion',
    gatherTurns: 2,
    async commit(items) {
      // Delivery-id order keeps concurrent batches on a multi-writer database from deadlocking.
      const outcomes = items.flat().sort((a, b) => compare(a.attempt.deliveryId, b.attempt.deliveryId));
      // The endpoint policies ride in the same transaction. Not durable: a completion lost to a power
      // failure costs a redelivery (at-least-once), never a message, so it need not wait for an fsync.
      const folded = await ctx.mutate(
        async (tx, publish) => {
          await transitions.complete(tx, outcomes);
          await rollUpAttempts(tx, driver.dialect, outcomes);
          return foldOutcomes(ctx, tx, publish, outcomes, policies);
        },
        { durable: false },
      );
      if (folded.madeDue) ctx.wakeLocal();
      if (events.circuitChanged.hasSubscribers)
        for (const change of folded.circuits) events.circuitChanged.publish(change);
      return reportPerItem(items, folded.disabled);
    },
  });

  /** The leased rows as tasks, with what an attempt needs of their messages; oldest delivery first. */
  async function toTasks(leased: readonly LeasedRow[]): Promise<ClaimedTask[]> {
    if (leased.length === 0) return [];
    const msgIds = [...new Set(leased.map((row) => row.msg_id))];
    const messages = await driver.query<{
      id: string;
      event_type: string;
      payload: string | null;
      trace_context: string | null;
    }>(
      `SELECT id, event_type, payload, trace_context FROM messages WHERE id IN (${placeholders(msgIds.length)})`,
      msgIds,
    );
    const byId = new Map(messages.map((row) => [row.id, row]));
    const tasks: ClaimedTask[] = [];
    for (const row of leased) {
      const message = byId.get(row.msg_id);
      // Deleted between the two statements (its application went): the delivery row went with it.
      if (!message) continue;
      tasks.push(
        toClaimedTask(row, {
          eventType: message.event_type,
          payload: message.payload,
          traceContext: message.trace_context,
        }),
      );
    }
    return tasks.sort(byDeliveryId);
  }

  /** A transition that returns how many deliveries it made due. */
  const makeDue = (fn: (tx: SqlExecutor) => Promise<number>) =>
    ctx.makeDue(async (tx) => {
      const changed = await fn(tx);
      return { changed, value: changed };
    });

  return {
    drain: () => completions.drain(),

    async claim(owner, limit, now, leaseMs, admit) {
      if (limit <= 0) return [];
      // A lease lost to a power failure only makes the task due again: no fsync needed.
      const leased = await driver.transaction(
        async (tx) => {
          const rows = await transitions.lease(tx, owner, now + leaseMs, now, limit);
          if (rows.length === 0) return rows;
          // Policies hold or postpone some of them in this transaction, so they leave the due range at once.
          return gateClaim(ctx, tx, rows, now, policies, admit, { owner, until: now + leaseMs });
        },
        { durable: false },
      );
      return toTasks(leased);
    },

    async complete(outcomes) {
      if (outcomes.length === 0) return { disabled: [] };
      return completions.submit(outcomes);
    },

    nextDueAt: () => transitions.earliestDue(driver),

    listByMessage(appId, msgId, page) {
      const filter = conditions();
      add(filter, 'd.app_id = ?', appId);
      add(filter, 'd.msg_id = ?', msgId);
      return keysetPage<Record<string, unknown>, { delivery: DeliveryRecord; endpoint: EndpointRecord }>(
        driver,
        {
          select: `SELECT ${prefixed('d', columns.deliveries)}, ${prefixed('e', columns.endpoints)}
                 FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id`,
          filter,
          // One delivery per endpoint of a message: listed by endpoint id, ascending, as Svix lists them.
          key: 'd.endpoint_id',
          ascending: true,
          page,
          map: (row) => ({
            delivery: toDelivery(unprefix<DeliveryRow>(row, 'd')),
            endpoint: toEndpoint(unprefix<EndpointRow>(row, 'e'), ctx.sealer),
          }),
        },
      );
    },

    listByEndpoint(appId, endpointId, filter, page) {
      const where = conditions();
      add(where, 'd.app_id = ?', appId);
      add(where, 'd.endpoint_id = ?', endpointId);
      addTimeRange(where, 'd.id', 'delivery', filter);
      if (filter.status !== undefined) add(where, 'd.status = ?', filter.status);
      if (filter.eventTypes && filter.eventTypes.length > 0)
        add(where, `m.event_type IN (${placeholders(filter.eventTypes.length)})`, ...filter.eventTypes);
      if (filter.channel !== undefined)
        add(where, driver.dialect.jsonArrayContains('m.channels'), filter.channel);
      if (filter.tag !== undefined) add(where, driver.dialect.jsonArrayContains('m.tags'), filter.tag);
      return keysetPage<Record<string, unknown>, { delivery: DeliveryRecord; message: MessageRecord }>(
        driver,
        {
          select: `SELECT ${prefixed('d', columns.deliveries)}, ${prefixed('m', columns.messages)}
                 FROM deliveries d JOIN messages m ON m.id = d.msg_id`,
          filter: where,
          key: 'd.id',
          page,
          map: (row) => ({
            delivery: toDelivery(unprefix<DeliveryRow>(row, 'd')),
            message: toMessage(unprefix<MessageRow>(row, 'm')),
          }),
        },
      );
    },

    async get(msgId, endpointId) {
      const row = await first<DeliveryRow>(
        driver,
        `SELECT ${COLUMNS} FROM deliveries WHERE msg_id = ? AND endpoint_id = ?`,
        [msgId, endpointId],
      );
      return row && toDelivery(row);
    },

    recover: (endpointId, since, until, now) =>
      makeDue((tx) => transitions.recover(tx, endpointId, since, until, now)),

    async unpark(owner, endpointId, now, leaseMs, limit) {
      const lease = { owner, until: now + leaseMs };
      // The endpoint's policies may have changed while the rows were parked (disabled, circuit open,
      // paused): the same gate as a claim's sorts them, without the dispatcher's admission (it asked).
      const { taken, leased } = await driver.transaction(
        async (tx) => {
          const rows = await transitions.unpark(tx, owner, endpointId, lease.until, limit);
          if (rows.length === 0) return { taken: 0, leased: rows };
          return {
            taken: rows.length,
            leased: await gateClaim(ctx, tx, rows, now, policies, undefined, lease),
          };
        },
        { durable: false },
      );
      return { taken, tasks: await toTasks(leased) };
    },

    releaseLeases: (now) => makeDue((tx) => transitions.releaseLeases(tx, now)),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Tasks in the order the dispatcher takes them: oldest delivery first. */
export function byDeliveryId(a: ClaimedTask, b: ClaimedTask): number {
  return compare(a.deliveryId, b.deliveryId);
}

/** A leased delivery as the dispatcher's task, with what an attempt needs of its message. */
export function toClaimedTask(
  row: LeasedRow,
  message: Pick<MessageRecord, 'eventType' | 'payload' | 'traceContext'>,
): ClaimedTask {
  return {
    deliveryId: row.id,
    appId: row.app_id,
    msgId: row.msg_id,
    endpointId: row.endpoint_id,
    attempts: row.attempts,
    eventType: message.eventType,
    payload: message.payload,
    triggerType: row.trigger_type as TriggerType,
    failStreak: Number(row.fail_streak),
    ...(message.traceContext != null ? { traceContext: message.traceContext } : {}),
  };
}
