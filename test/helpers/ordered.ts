import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Receiver, startReceiver } from './receiver.ts';

/**
 * A receiver for fifoEndpoint destinations: each destination sends `x-dest: <name>` (a config header),
 * and the receiver keeps, per name, the batches in arrival order (the payloads' `n`) and the most
 * requests it ever had in flight at once. `status` may fail a destination (default 200); `delayMs`
 * holds every request that long, so that a kill lands mid-request and overlapping sends would show.
 */
export interface OrderedReceiver {
  readonly receiver: Receiver;
  readonly url: string;
  batches(name: string): number[][];
  /** Distinct `n`s received for `name`. */
  seen(name: string): number;
  maxInFlight(name: string): number;
  close(): Promise<void>;
}

export async function startOrderedReceiver(
  options: { delayMs?: number; status?: (name: string) => number | Promise<number> } = {},
): Promise<OrderedReceiver> {
  const batches = new Map<string, number[][]>();
  const distinct = new Map<string, Set<number>>();
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const receiver = await startReceiver({
    async respond(delivery) {
      const name = String(delivery.headers['x-dest'] ?? '');
      const now = (inFlight.get(name) ?? 0) + 1;
      inFlight.set(name, now);
      peak.set(name, Math.max(peak.get(name) ?? 0, now));
      try {
        const body = JSON.parse(delivery.body) as { events: Array<{ payload: { n: number } }> };
        const ns = body.events.map((event) => event.payload.n);
        const list = batches.get(name) ?? [];
        list.push(ns);
        batches.set(name, list);
        const set = distinct.get(name) ?? new Set();
        for (const n of ns) set.add(n);
        distinct.set(name, set);
        if (options.delayMs) await sleep(options.delayMs);
        return options.status ? await options.status(name) : 200;
      } finally {
        inFlight.set(name, (inFlight.get(name) ?? 1) - 1);
      }
    },
  });
  return {
    receiver,
    url: receiver.url,
    batches: (name) => batches.get(name) ?? [],
    seen: (name) => distinct.get(name)?.size ?? 0,
    maxInFlight: (name) => peak.get(name) ?? 0,
    close: () => receiver.close(),
  };
}

/**
 * The ordered-delivery guarantee, on what a receiver saw of messages numbered 1..total in acceptance
 * order: every message arrived; each batch is a run of consecutive numbers; and no batch begins past
 * the first number not yet seen, so a message is never seen before one accepted earlier. A batch may
 * repeat (or start again from an earlier message) after a crash or a lost lease. Returns how many
 * messages arrived again.
 */
export function assertNeverReordered(batches: readonly number[][], total: number, label = ''): number {
  let highest = 0;
  let repeated = 0;
  for (const [index, batch] of batches.entries()) {
    assert.ok(batch.length > 0, `${label} batch ${index} is empty`);
    batch.forEach((n, i) => {
      if (i > 0)
        assert.equal(n, (batch[i - 1] ?? 0) + 1, `${label} batch ${index} is not consecutive: ${batch}`);
    });
    assert.ok(
      (batch[0] ?? 0) <= highest + 1,
      `${label} batch ${index} starts at ${batch[0]} although ${highest + 1} was never seen (reordered)`,
    );
    repeated += batch.filter((n) => n <= highest).length;
    highest = Math.max(highest, batch.at(-1) ?? 0);
  }
  assert.equal(highest, total, `${label} saw up to ${highest} of ${total}`);
  return repeated;
}
