import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CommitBatch, events } from '../../src/observability/events.ts';
import { createGroupCommit, type GroupCommitOptions } from '../../src/storage/sql/group-commit.ts';

/** A group commit that records every batch it commits; by default each item's result is `item * 10`. */
function recorder(overrides: Partial<GroupCommitOptions<number, number>> = {}) {
  const batches: number[][] = [];
  const commit = overrides.commit ?? (async (items: readonly number[]) => items.map((item) => item * 10));
  const group = createGroupCommit<number, number>({
    kind: 'test',
    windowMs: 0,
    maxBatch: 100,
    maxInFlight: 1,
    ...overrides,
    commit: (items) => {
      batches.push([...items]);
      return commit(items);
    },
  });
  return { group, batches };
}

describe('group commit', () => {
  it('puts everything submitted in one event-loop turn into one commit, results in order', async () => {
    const { group, batches } = recorder();
    const results = await Promise.all([1, 2, 3].map((item) => group.submit(item)));
    assert.deepEqual(results, [10, 20, 30]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('splits at maxBatch', async () => {
    const { group, batches } = recorder({ maxBatch: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((item) => group.submit(item)));
    assert.deepEqual(results, [10, 20, 30, 40, 50]);
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
  });

  it('queues arrivals during a commit for the next one, one commit at a time', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    let most = 0;
    const { group, batches } = recorder({
      async commit(items) {
        running++;
        most = Math.max(most, running);
        if (items[0] === 1) await gate;
        running--;
        return items.map((item) => item * 10);
      },
    });
    const first = group.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.submit(2), group.submit(3)];
    release();
    assert.deepEqual(await Promise.all([first, ...later]), [10, 20, 30]);
    assert.deepEqual(batches, [[1], [2, 3]]);
    assert.equal(most, 1);
  });

  it('retries a failed batch item by item, so one bad item fails only its own caller', async () => {
    const { group, batches } = recorder({
      async commit(items) {
        if (items.includes(2)) throw new Error(`bad item among ${items.join(',')}`);
        return items.map((item) => item * 10);
      },
    });
    const settled = await Promise.allSettled([1, 2, 3].map((item) => group.submit(item)));
    assert.deepEqual(batches, [[1, 2, 3], [1], [2], [3]]);
    assert.deepEqual(settled[0], { status: 'fulfilled', value: 10 });
    assert.equal(settled[1]?.status, 'rejected');
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /bad item among 2$/);
    assert.deepEqual(settled[2], { status: 'fulfilled', value: 30 });
  });

  it('rejects a lone item with the error of its commit, without retrying it', async () => {
    const { group, batches } = recorder({
      async commit() {
        throw new Error('database is down');
      },
    });
    await assert.rejects(group.submit(7), /database is down/);
    assert.deepEqual(batches, [[7]]);
  });

  it('drain resolves at once when idle and otherwise once everything submitted has settled', async () => {
    const { group } = recorder({
      async commit(items) {
        if (items.length > 1) throw new Error('batch fails');
        await new Promise((resolve) => setImmediate(resolve));
        return items.map((item) => item * 10);
      },
    });
    await group.drain();
    const settled: number[] = [];
    for (const item of [1, 2, 3]) void group.submit(item).then((value) => settled.push(value));
    await group.drain();
    assert.deepEqual(settled.sort(), [10, 20, 30]);
  });

  it('runs up to maxInFlight commits at once where the database takes parallel writers', async () => {
    let running = 0;
    let most = 0;
    const { group } = recorder({
      maxBatch: 1,
      maxInFlight: 3,
      async commit(items) {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return items.map((item) => item * 10);
      },
    });
    assert.deepEqual(
      await Promise.all([1, 2, 3, 4, 5, 6].map((item) => group.submit(item))),
      [10, 20, 30, 40, 50, 60],
    );
    assert.equal(most, 3);
  });

  it('gathers for gatherTurns event-loop turns: an item of the next turn joins with 2, not with 1', async () => {
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    for (const [turns, expected] of [
      [1, [[1], [2]]],
      [2, [[1, 2]]],
    ] as const) {
      const { group, batches } = recorder({ gatherTurns: turns });
      const first = group.submit(1);
      await nextTurn();
      await Promise.all([first, group.submit(2)]);
      assert.deepEqual(batches, expected, `gatherTurns ${turns}`);
    }
  });

  it('publishes each committed batch (kind, size) for the metrics, and nothing for a failed one', async () => {
    const seen: CommitBatch[] = [];
    const listen = (event: CommitBatch) => seen.push(event);
    events.commitBatch.subscribe(listen);
    try {
      const { group } = recorder({ kind: 'ingest' });
      await Promise.all([1, 2, 3].map((item) => group.submit(item)));
      const failing = recorder({
        kind: 'ingest',
        commit: async () => {
          throw new Error('disk full');
        },
      });
      await assert.rejects(failing.group.submit(4), /disk full/);
    } finally {
      events.commitBatch.unsubscribe(listen);
    }
    assert.deepEqual(
      seen.map(({ kind, size }) => ({ kind, size })),
      [{ kind: 'ingest', size: 3 }],
    );
    assert.ok(seen.every((event) => event.durationMs >= 0));
  });
});
