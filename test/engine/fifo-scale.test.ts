/**
 * Thousands of ordered destinations at once: 2,000 fifoEndpoint destinations (made through storage, so
 * the test spends its time delivering) each get two messages, one of them hangs past the delivery
 * timeout on every request, and an ordinary endpoint shares the dispatcher. The stalled destination
 * holds only its own queue: every other destination gets both its batches, in order, and
 * the ordinary endpoint every message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../../src/domain/ids.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import type { EndpointRecord } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { assertNeverReordered, startOrderedReceiver } from '../helpers/ordered.ts';
import { pipeline, waitFor as waitForBriefly } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

const DESTINATIONS = 2000;
const PLAIN_MESSAGES = 200;

/** Generous bounds: the machine may be busy; these are hang guards, not speed targets. */
const waitFor = <T>(probe: () => Promise<T | undefined | false>) => waitForBriefly(probe, 60_000);

forEachBackend((backend) => {
  test(`${DESTINATIONS} ordered destinations with one stalled: the others are unaffected`, {
    timeout: 600_000,
  }, async (t) => {
    const receiver = await startOrderedReceiver({
      async status(name) {
        if (name !== 'stalled') return 200;
        await sleep(4_000); // past the delivery timeout: the request is cut off, then retried
        return 500;
      },
    });
    t.after(() => receiver.close());
    const plain = await startReceiver();
    t.after(() => plain.close());
    const p = await pipeline(t, backend, {
      settings: { deliveryTimeout: '3s', retrySchedule: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s' },
    });
    const now = Date.now();
    const app = { id: newId('application', now), uid: null, name: 'scale', throttleRate: null, metadata: {} };
    await p.storage.applications.create({ ...app, createdAt: now, updatedAt: now });
    const record = (
      name: string,
      url: string,
      destination?: EndpointRecord['destination'],
    ): EndpointRecord => ({
      id: newId(destination ? 'destination' : 'endpoint', now),
      appId: app.id,
      uid: null,
      url,
      description: '',
      disabled: false,
      eventTypes: null,
      channels: null,
      throttleRate: null,
      metadata: {},
      headers: { 'x-dest': name },
      secrets: [{ key: generateSecret(), expiresAt: null }],
      createdAt: now,
      updatedAt: now,
      ...(destination ? { destination } : {}),
    });
    const names = Array.from({ length: DESTINATIONS }, (_, i) => (i === 0 ? 'stalled' : `d${i}`));
    const ordered = names.map((name) =>
      record(name, `${receiver.url}/fifo`, {
        type: 'fifoEndpoint',
        config: { url: `${receiver.url}/fifo`, batchSize: 1, maxWaitSecs: 0 },
      }),
    );
    for (let i = 0; i < ordered.length; i += 100)
      await Promise.all(ordered.slice(i, i + 100).map((endpoint) => p.storage.endpoints.create(endpoint)));
    const plainEndpoint = record('plain', `${plain.url}/hook`);
    await p.storage.endpoints.create(plainEndpoint);

    const ingest = (endpoint: EndpointRecord | undefined, n: number) => {
      const at = Date.now();
      return p.storage.messages.ingest({
        message: {
          id: newId('message', at),
          appId: app.id,
          uid: null,
          eventType: 'scale',
          channels: null,
          payload: JSON.stringify({ n }),
          payloadExpiresAt: at + 86_400_000,
          createdAt: at,
        },
        endpointIds: endpoint ? [] : [plainEndpoint.id],
        ...(endpoint ? { ordered: [{ endpointId: endpoint.id, batchSize: 1 }] } : {}),
      });
    };
    // Message 1 for every destination, then message 2: each queue's order is 1, 2.
    for (const n of [1, 2])
      for (let i = 0; i < ordered.length; i += 200)
        await Promise.all(ordered.slice(i, i + 200).map((endpoint) => ingest(endpoint, n)));
    await Promise.all(Array.from({ length: PLAIN_MESSAGES }, (_, n) => ingest(undefined, n)));

    await p.startDispatcher();
    const others = names.slice(1);
    await receiver.receiver.waitFor(() => others.every((name) => receiver.seen(name) === 2), 480_000);
    await plain.waitFor(() => plain.counts.size === PLAIN_MESSAGES, 120_000);
    // In order, each; a batch may repeat (an attempt that timed out under this load is retried).
    let repeated = 0;
    for (const name of others) repeated += assertNeverReordered(receiver.batches(name), 2, name);
    // The stalled destination was tried (and keeps being retried), only ever with its head message.
    const stalled = receiver.batches('stalled');
    assert.ok(stalled.length >= 1);
    for (const batch of stalled) assert.deepEqual(batch, [1]);
    const position = await waitFor(async () => {
      const state = await p.storage.ordered.position(ordered[0]!.id);
      return state.attempts > 0 && state;
    });
    assert.equal(position.queued, 2);
    assert.deepEqual(
      JSON.parse(position.next?.payload ?? 'null'),
      { n: 1 },
      'its head is still the first message',
    );
    t.diagnostic(
      `stalled destination tried ${stalled.length} times while ${others.length} others finished (${repeated} repeats)`,
    );
  });
});
