/**
 * Group commit: callers submit one item each and share a transaction (and so one fsync) with whatever
 * else arrived meanwhile.
 *
 *     submit ──► queued ──(setImmediate [+ window])──► flushing: commit(batch) ──ok──► every caller resolves
 *                  ▲                                            │
 *                  └──── next flush scheduled as one ends       └─fails──► each item alone: resolve or reject it
 *
 * A flush starts on the next `setImmediate`, so everything that arrived during the current event-loop
 * turn rides together; while a flush is committing, new arrivals queue and go in the next one, so the
 * batch grows by itself when commits are slow. `windowMs` adds deliberate waiting for more company.
 * Callers resolve only after their commit returned. When a batch fails, its items are retried one by
 * one so a single bad item (say, an unknown application) fails only its own caller.
 */
import { events } from '../../observability/events.ts';

export interface GroupCommitOptions<I, R> {
  /** What is committed (`ingest`, `completion`): the `kind` of the commit-batch events. */
  kind: string;
  /** Runs one transaction for the items and returns one result per item, in order. */
  commit(items: readonly I[]): Promise<R[]>;
  windowMs: number;
  /**
   * Event-loop turns a flush waits for company before it commits (default 1: what arrived during the
   * current turn). Completions wait 2: each transaction has a fixed cost (the endpoint-policy fold),
   * so fewer, larger ones save CPU, and a turn later is nothing next to the attempt itself.
   */
  gatherTurns?: number;
  maxBatch: number;
  /** Flushes that may commit at once: 1 for a single-writer database, more where writers run in parallel. */
  maxInFlight: number;
}

export interface GroupCommit<I, R> {
  submit(item: I): Promise<R>;
  /** Resolves once everything submitted so far has settled. */
  drain(): Promise<void>;
}

interface Waiter<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<I, R>(options: GroupCommitOptions<I, R>): GroupCommit<I, R> {
  const queue: Waiter<I, R>[] = [];
  let scheduled = false;
  let inFlight = 0;
  let idle: (() => void)[] = [];

  function schedule(): void {
    if (scheduled || queue.length === 0 || inFlight >= options.maxInFlight) return;
    scheduled = true;
    const turns = options.gatherTurns ?? 1;
    const wait = (left: number) => {
      if (left > 1) setImmediate(() => wait(left - 1));
      else if (options.windowMs > 0) setTimeout(flush, options.windowMs);
      else flush();
    };
    setImmediate(() => wait(turns));
  }

  function flush(): void {
    scheduled = false;
    const batch = queue.splice(0, options.maxBatch);
    if (batch.length === 0) {
      settleIdle();
      return;
    }
    inFlight++;
    void commitBatch(batch).finally(() => {
      inFlight--;
      schedule();
      settleIdle();
    });
    schedule();
  }

  async function commitBatch(batch: Waiter<I, R>[]): Promise<void> {
    try {
      const started = performance.now();
      const results = await options.commit(batch.map((waiter) => waiter.item));
      if (events.commitBatch.hasSubscribers)
        events.commitBatch.publish({
          kind: options.kind,
          size: batch.length,
          durationMs: performance.now() - started,
        });
      for (const [index, waiter] of batch.entries()) waiter.resolve(results[index] as R);
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
    }
    for (const waiter of batch) {
      try {
        const [result] = await options.commit([waiter.item]);
        waiter.resolve(result as R);
      } catch (error) {
        waiter.reject(error);
      }
    }
  }

  function settleIdle(): void {
    if (queue.length > 0 || inFlight > 0 || scheduled) return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && inFlight === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
