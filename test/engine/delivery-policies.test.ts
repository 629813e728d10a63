import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import type { SettingName } from '../../src/config/settings.ts';
import { createDestinations } from '../../src/delivery/destinations.ts';
import { createDispatcher } from '../../src/dispatch/dispatcher.ts';
import { newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { OperationalEvent } from '../../src/operational/events.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import { type EndpointRecord, MessageStatus } from '../../src/storage/contract.ts';
import { createEndpointCache } from '../../src/storage/endpoint-cache.ts';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { application as applicationFixture, endpoint as endpointFixture } from '../storage/fixtures.ts';

/** The delivery policies end to end: real receivers on 127.0.0.1, a real dispatcher, a recording sink. */
const logger = createLogger('silent', false);

async function receiver(t: TestContext, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const arrivals: Array<{ at: number; msgId: string }> = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push({ at: Date.now(), msgId: String(req.headers['webhook-id']) });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, arrivals };
}

async function engine(
  t: TestContext,
  backend: TestBackend,
  overrides: Partial<Record<SettingName, string>> = {},
) {
  const storage = await backend.create({
    allowedSubnets: '127.0.0.0/8',
    retrySchedule: '20ms',
    ...overrides,
  });
  const events: OperationalEvent[] = [];
  const endpointCache = createEndpointCache(storage);
  const destination = createDestinations(storage.config, logger);
  const dispatcher = createDispatcher({
    storage,
    endpointCache,
    destination,
    config: storage.config,
    logger,
    pollIntervalMs: 200,
    drainTimeoutMs: 100,
    operational: {
      async emit(event) {
        events.push(event);
      },
    },
  });
  t.after(async () => {
    await dispatcher.close();
    await destination.close();
    endpointCache.close();
    await storage.cleanup();
  });
  const app = await storage.applications.create(applicationFixture({ name: 'policies' }));
  await dispatcher.start();
  return {
    storage,
    events,
    appId: app.id,
    endpoint(url: string): Promise<EndpointRecord> {
      return storage.endpoints.create(
        endpointFixture(app.id, { url, secrets: [{ key: generateSecret(), expiresAt: null }] }),
      );
    },
    async send(endpoint: EndpointRecord): Promise<{ id: string; at: number }> {
      const at = Date.now();
      const id = newId('message');
      await storage.messages.ingest({
        message: {
          id,
          appId: app.id,
          uid: null,
          eventType: 'user.created',
          channels: null,
          payload: '{"n":1}',
          payloadExpiresAt: at + 86_400_000,
          createdAt: at,
        },
        endpointIds: [endpoint.id],
      });
      return { id, at };
    },
  };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

forEachBackend((backend) => {
  test('failing after the 4th failure in a row, recovered on success; exhausted when attempts run out', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '10ms,10ms,10ms,10ms,10ms,10ms' });
    let calls = 0;
    const flaky = await receiver(t, (_req, res) => res.writeHead(++calls <= 5 ? 500 : 200).end());
    const dead = await receiver(t, (_req, res) => res.writeHead(500).end());
    const recovering = await e.endpoint(flaky.url);
    const failing = await e.endpoint(dead.url);
    const one = await e.send(recovering);
    const two = await e.send(failing);
    await waitFor(
      async () => (await e.storage.deliveries.get(one.id, recovering.id))?.status === MessageStatus.success,
    );
    await waitFor(
      async () => (await e.storage.deliveries.get(two.id, failing.id))?.status === MessageStatus.fail,
    );
    await waitFor(() => e.events.length >= 4);
    const about = (msgId: string) =>
      e.events.flatMap((event) => ('msgId' in event.data && event.data.msgId === msgId ? [event.type] : []));
    assert.deepEqual(about(one.id), ['message.attempt.failing', 'message.attempt.recovered']);
    assert.deepEqual(about(two.id), ['message.attempt.failing', 'message.attempt.exhausted']);
    const exhausted = e.events.find((event) => event.type === 'message.attempt.exhausted');
    assert.equal(
      exhausted?.type === 'message.attempt.exhausted' && exhausted.data.lastAttempt.responseStatusCode,
      500,
    );
  });

  test('a 410 disables the endpoint and says so; re-enabling delivers what waited', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '20ms,20ms' });
    let gone = true;
    const rx = await receiver(t, (_req, res) => res.writeHead(gone ? 410 : 200).end());
    const endpoint = await e.endpoint(rx.url);
    const first = await e.send(endpoint);
    await waitFor(async () => (await e.storage.endpoints.get(e.appId, endpoint.id))?.disabled);
    await waitFor(() => e.events.some((event) => event.type === 'endpoint.disabled'));
    const disabled = e.events.find((event) => event.type === 'endpoint.disabled');
    assert.equal(disabled?.type === 'endpoint.disabled' && disabled.data.endpointId, endpoint.id);
    const second = await e.send(endpoint);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(rx.arrivals.length, 1, 'nothing more is attempted while disabled');

    gone = false;
    const record = await e.storage.endpoints.get(e.appId, endpoint.id);
    assert.ok(record);
    await e.storage.endpoints.update({ ...record, disabled: false, updatedAt: Date.now() });
    for (const msg of [first, second])
      await waitFor(
        async () => (await e.storage.deliveries.get(msg.id, endpoint.id))?.status === MessageStatus.success,
      );
    assert.equal(e.events.filter((event) => event.type === 'endpoint.disabled').length, 1);
  });

  test("a 429's Retry-After pauses that endpoint only", async (t) => {
    const e = await engine(t, backend, { retrySchedule: '10ms' });
    let limited = true;
    const busy = await receiver(t, (_req, res) => {
      if (limited) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end();
      limited = false;
    });
    const calm = await receiver(t, (_req, res) => res.writeHead(200).end());
    const busyEndpoint = await e.endpoint(busy.url);
    const calmEndpoint = await e.endpoint(calm.url);
    await e.send(busyEndpoint);
    await waitFor(() => busy.arrivals.length === 1);
    // The pause starts when the 429's attempt is committed.
    await waitFor(async () => (await e.storage.endpoints.health(busyEndpoint.id))?.pausedUntil);
    const later = await e.send(busyEndpoint);
    const other = await e.send(calmEndpoint);
    await waitFor(
      async () =>
        (await e.storage.deliveries.get(other.id, calmEndpoint.id))?.status === MessageStatus.success,
    );
    assert.ok(Date.now() - other.at < 900, 'the other endpoint is not paused');
    await waitFor(
      async () =>
        (await e.storage.deliveries.get(later.id, busyEndpoint.id))?.status === MessageStatus.success,
    );
    const [firstTry, ...rest] = busy.arrivals;
    assert.ok(firstTry);
    for (const arrival of rest)
      assert.ok(arrival.at - firstTry.at >= 950, `attempted ${arrival.at - firstTry.at} ms after the 429`);
  });

  test('a dead and a slow endpoint cannot take the delivery slots of a healthy one', async (t) => {
    const settings = {
      deliveryConcurrency: '8',
      endpointConcurrency: '2',
      deliveryTimeout: '3s',
      // Fairness alone: the dead endpoint's timeouts must not open its circuit here.
      circuitThreshold: '1000',
      retrySchedule: '1h',
    } as const;
    const healthyLatencies = async (e: Awaited<ReturnType<typeof engine>>, endpoint: EndpointRecord) => {
      const latencies: number[] = [];
      for (let i = 0; i < 8; i++) {
        const sent = await e.send(endpoint);
        await waitFor(
          async () =>
            (await e.storage.deliveries.get(sent.id, endpoint.id))?.status === MessageStatus.success,
        );
        latencies.push(Date.now() - sent.at);
      }
      return latencies;
    };

    const alone = await engine(t, backend, settings);
    const aloneRx = await receiver(t, (_req, res) => res.writeHead(200).end());
    const baseline = median(await healthyLatencies(alone, await alone.endpoint(aloneRx.url)));

    const e = await engine(t, backend, settings);
    const dead = await receiver(t, () => {}); // accepts, never answers
    const slow = await receiver(t, (_req, res) => setTimeout(() => res.writeHead(200).end(), 1_500));
    const healthy = await receiver(t, (_req, res) => res.writeHead(200).end());
    const deadEndpoint = await e.endpoint(dead.url);
    const slowEndpoint = await e.endpoint(slow.url);
    for (let i = 0; i < 20; i++) {
      await e.send(deadEndpoint);
      await e.send(slowEndpoint);
    }
    await waitFor(() => dead.arrivals.length >= 2 && slow.arrivals.length >= 2);
    const contended = median(await healthyLatencies(e, await e.endpoint(healthy.url)));
    t.diagnostic(`healthy p50 alone ${baseline} ms, beside a dead and a slow endpoint ${contended} ms`);
    // Without the cap the dead and slow endpoints hold all 8 slots and healthy waits >= 1.5 s per message.
    assert.ok(
      contended < Math.max(10 * baseline, 750),
      `healthy p50 ${contended} ms vs ${baseline} ms alone`,
    );
    assert.ok(dead.arrivals.length <= 2 + 2, 'the dead endpoint never held more than its cap');
  });
});
