import type { OrderedEvent, OrderedPosition, OrderedStore, SkipResult } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, type SqlExecutor } from './driver.ts';
import type { OrderedTransitions } from './ordered-transitions.ts';

interface EventRow {
  seq: number | string;
  msg_id: string;
  event_type: string;
  payload: string | null;
  created_at: number | string;
}

interface StateRow {
  last_seq: number | string;
  acked_seq: number | string;
  next_attempt_at: number | string | null;
  attempts: number | string;
  failure: string | null;
  last_acked_msg_id: string | null;
}

const toEvent = (row: EventRow): OrderedEvent => ({
  seq: Number(row.seq),
  msgId: row.msg_id,
  eventType: row.event_type,
  payload: row.payload,
  createdAt: Number(row.created_at),
});

const EVENT_COLUMNS = 'q.seq, q.msg_id, m.event_type, m.payload, m.created_at';

/** Ordered delivery's storage (see ordered-transitions.ts for its state machine). */
export function createOrderedStore(ctx: SqlContext, transitions: OrderedTransitions): OrderedStore {
  const { driver } = ctx;

  /** A durable transaction that may make destinations due; when it did, every ordered loop hears of it. */
  async function makeDue<T>(fn: (tx: SqlExecutor) => Promise<{ changed: number; value: T }>): Promise<T> {
    const { changed, value } = await driver.transaction(async (tx) => {
      const result = await fn(tx);
      if (result.changed > 0) await ctx.announceOrderedWork(tx);
      return result;
    });
    if (changed > 0) ctx.wakeOrderedLocal();
    return value;
  }

  async function read(endpointId: string, limit: number): Promise<OrderedEvent[]> {
    const rows = await driver.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM fifo_queue q JOIN messages m ON m.id = q.msg_id
       WHERE q.endpoint_id = ? AND q.seq > (SELECT acked_seq FROM fifo_state WHERE endpoint_id = ?)
       ORDER BY q.seq LIMIT ?`,
      [endpointId, endpointId, limit],
    );
    return rows.map(toEvent);
  }

  return {
    claim(owner, limit, now, leaseMs) {
      if (limit <= 0) return Promise.resolve([]);
      // A lease lost to a power failure only makes the destination due again: no fsync needed.
      return driver.transaction((tx) => transitions.lease(tx, owner, now + leaseMs, now, limit), {
        durable: false,
      });
    },

    read,

    async finish(lease, finish, now) {
      // An ack is durable: after any crash the receiver sees at most the batch in flight again.
      const durable = finish.kind === 'acked';
      return driver.transaction(
        async (tx) => {
          if ('attempt' in finish) await transitions.recordAttempt(tx, finish.attempt);
          const held = await transitions.finish(tx, lease, finish, now);
          // Other processes' loops hear of a destination due again at once. This process's is not
          // woken here: the loop that finishes claims again itself once the turn has ended, and a wake
          // now could claim the destination while its turn still counts as running there.
          if (held && finish.kind !== 'retry' && finish.kind !== 'stopped') await ctx.announceOrderedWork(tx);
          return held;
        },
        { durable },
      );
    },

    async nextDueAt() {
      const row = await first<{ due: number | string | null }>(
        driver,
        `SELECT next_attempt_at AS due FROM fifo_state s
         WHERE next_attempt_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM endpoints e WHERE e.id = s.endpoint_id AND e.disabled = 0)
         ORDER BY next_attempt_at LIMIT 1`,
      );
      return row?.due == null ? null : Number(row.due);
    },

    releaseLeases: (now) =>
      makeDue(async (tx) => {
        const changed = await transitions.releaseLeases(tx, now);
        return { changed, value: changed };
      }),

    async position(endpointId): Promise<OrderedPosition> {
      const state = await first<StateRow>(
        driver,
        `SELECT last_seq, acked_seq, next_attempt_at, attempts, failure, last_acked_msg_id
         FROM fifo_state WHERE endpoint_id = ?`,
        [endpointId],
      );
      if (!state)
        return {
          queued: 0,
          next: undefined,
          lastAcked: undefined,
          attempts: 0,
          failure: null,
          nextAttemptAt: null,
        };
      const [next] = await read(endpointId, 1);
      const acked = state.last_acked_msg_id
        ? await first<Omit<EventRow, 'seq'>>(
            driver,
            'SELECT id AS msg_id, event_type, payload, created_at FROM messages WHERE id = ?',
            [state.last_acked_msg_id],
          )
        : undefined;
      return {
        queued: Number(state.last_seq) - Number(state.acked_seq),
        next,
        lastAcked: acked ? toEvent({ ...acked, seq: 0 }) : undefined,
        attempts: Number(state.attempts),
        failure: state.failure,
        nextAttemptAt: state.next_attempt_at == null ? null : Number(state.next_attempt_at),
      };
    },

    skip(endpointId, through, now) {
      return makeDue<SkipResult>(async (tx) => {
        let target: number;
        if ('msgId' in through) {
          const row = await first<{ seq: number | string }>(
            tx,
            'SELECT seq FROM fifo_queue WHERE endpoint_id = ? AND msg_id = ?',
            [endpointId, through.msgId],
          );
          if (!row) return { changed: 0, value: { kind: 'not_queued' } };
          target = Number(row.seq);
        } else {
          const state = await first<{ last_seq: number | string; acked_seq: number | string }>(
            tx,
            'SELECT last_seq, acked_seq FROM fifo_state WHERE endpoint_id = ?',
            [endpointId],
          );
          if (!state) return { changed: 0, value: { kind: 'skipped', count: 0 } };
          target = Math.min(Number(state.last_seq), Number(state.acked_seq) + through.count);
        }
        const count = await transitions.skip(tx, endpointId, target, now);
        return { changed: count, value: { kind: 'skipped', count } };
      });
    },

    forceRetry: (endpointId, now) =>
      makeDue(async (tx) => {
        const changed = await transitions.forceRetry(tx, endpointId, now);
        return { changed, value: changed > 0 };
      }),
  };
}
