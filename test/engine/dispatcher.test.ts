import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { SettingName } from '../../src/config/settings.ts';
import { createDestinations } from '../../src/delivery/destinations.ts';
import { createDispatcher, type Dispatcher } from '../../src/dispatch/dispatcher.ts';
import { newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import { events, type TasksClaimed } from '../../src/observability/events.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import {
  type AttemptRecord,
  type DeliveryRecord,
  type EndpointRecord,
  type EndpointSecret,
  MessageStatus,
} from '../../src/storage/contract.ts';
import { createEndpointCache } from '../../src/storage/endpoint-cache.ts';
import { forEachBackend, type TestBackend, type TestStorage } from '../helpers/backends.ts';
import { application as applicationFixture, endpoint as endpointFixture } from '../storage/fixtures.ts';

const logger = createLogger('silent', false);

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  url: string;
}

/** A real receiver on 127.0.0.1; `handle` answers each request (default 200 "ok"). */
async function receiver(
  t: TestContext,
  handle?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, url: req.url ?? '' });
      if (handle) handle(req, res, body);
      else res.end('ok');
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
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, port, received };
}

interface Engine {
  storage: TestStorage;
  dispatcher: Dispatcher;
  appId: string;
  endpoint(url: string, extra?: Partial<EndpointRecord>): Promise<EndpointRecord>;
  send(endpoints: EndpointRecord[], payload?: string | null): Promise<string>;
  delivery(msgId: string, endpointId: string): Promise<DeliveryRecord | undefined>;
  attempts(msgId: string): Promise<AttemptRecord[]>;
  /** Waits for the delivery to reach a final state and returns it. */
  settled(msgId: string, endpointId: string): Promise<DeliveryRecord>;
}

async function engine(
  t: TestContext,
  backend: TestBackend,
  overrides: Partial<Record<SettingName, string>> = {},
  options: { start?: boolean; drainTimeoutMs?: number; pollIntervalMs?: number } = {},
): Promise<Engine> {
  const storage = await backend.create({
    allowedSubnets: '127.0.0.0/8',
    retrySchedule: '50ms,50ms',
    ...overrides,
  });
  const endpointCache = createEndpointCache(storage);
  const destination = createDestinations(storage.config, logger);
  const dispatcher = createDispatcher({
    storage,
    endpointCache,
    destination,
    config: storage.config,
    logger,
    pollIntervalMs: options.pollIntervalMs ?? 200,
    ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
  });
  t.after(async () => {
    await dispatcher.close();
    await destination.close();
    endpointCache.close();
    await storage.cleanup();
  });
  const app = await storage.applications.create(applicationFixture({ name: 'engine test' }));
  if (options.start !== false) await dispatcher.start();

  const delivery = (msgId: string, endpointId: string) => storage.deliveries.get(msgId, endpointId);
  return {
    storage,
    dispatcher,
    appId: app.id,
    async endpoint(url, extra = {}) {
      return storage.endpoints.create(
        endpointFixture(app.id, { url, secrets: [{ key: generateSecret(), expiresAt: null }], ...extra }),
      );
    },
    async send(endpoints, payload = '{"type":"user.created",  "data": {"name":"Zoë"}}') {
      const at = Date.now();
      const id = newId('message');
      await storage.messages.ingest({
        message: {
          id,
          appId: app.id,
          uid: null,
          eventType: 'user.created',
          channels: null,
          payload,
          payloadExpiresAt: at + 86_400_000,
          createdAt: at,
        },
        endpointIds: endpoints.map((endpoint) => endpoint.id),
      });
      return id;
    },
    delivery,
    async attempts(msgId) {
      const page = await storage.attempts.listByMessage(app.id, msgId, {}, { limit: 100 });
      return page.data.sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    async settled(msgId, endpointId) {
      return waitFor(async () => {
        const row = await delivery(msgId, endpointId);
        return row && (row.status === MessageStatus.success || row.status === MessageStatus.fail)
          ? row
          : undefined;
      });
    },
  };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

forEachBackend((backend) => {
  test('delivers the payload byte for byte, signed, with the endpoint headers', async (t) => {
    const e = await engine(t, backend);
    const rx = await receiver(t);
    const secret: EndpointSecret = { key: generateSecret(), expiresAt: null };
    const endpoint = await e.endpoint(rx.url, {
      secrets: [secret],
      headers: { 'X-Tenant': 'acme', 'webhook-signature': 'v1,forged', 'Content-Type': 'text/plain' },
    });
    const payload = '{"type":"user.created",  "data": {"name":"Zoë 😀", "n": 1.50}}';
    const msgId = await e.send([endpoint], payload);

    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.success);
    assert.equal(rx.received.length, 1);
    const [got] = rx.received;
    assert.ok(got);
    assert.equal(got.body, payload);
    assert.equal(got.url, '/hook');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.match(String(got.headers['user-agent']), /^Hookyard\/\d+\.\d+\.\d+/);
    assert.equal(got.headers['x-tenant'], 'acme');
    assert.equal(got.headers['webhook-id'], msgId);
    assert.ok(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000) < 10);
    assert.equal(got.headers['svix-id'], undefined);
    const verified = new Webhook(secret.key).verify(got.body, got.headers as Record<string, string>);
    assert.deepEqual(verified, JSON.parse(payload));

    const [attempt, ...more] = await e.attempts(msgId);
    assert.equal(more.length, 0);
    assert.equal(attempt?.status, MessageStatus.success);
    assert.equal(attempt?.responseStatusCode, 200);
    assert.equal(attempt?.response, 'ok');
    assert.equal(attempt?.url, rx.url);
    assert.equal(attempt?.endpointId, endpoint.id);
    assert.ok(attempt?.id.startsWith('atmpt_'));
  });

  test('sends svix-* headers too when configured', async (t) => {
    const e = await engine(t, backend, { signatureHeaders: 'both' });
    const rx = await receiver(t);
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    await e.settled(msgId, endpoint.id);
    const headers = rx.received[0]?.headers ?? {};
    assert.equal(headers['svix-id'], msgId);
    assert.equal(headers['svix-signature'], headers['webhook-signature']);
    assert.equal(headers['svix-timestamp'], headers['webhook-timestamp']);
  });

  test('retries failures on the schedule, then fails', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '50ms,50ms' });
    const rx = await receiver(t, (_req, res) => res.writeHead(500).end('broken'));
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.fail);
    assert.equal(row.attempts, 3);
    assert.equal(row.nextAttemptAt, null);
    const attempts = await e.attempts(msgId);
    assert.deepEqual(
      attempts.map((a) => [a.status, a.responseStatusCode, a.response]),
      Array(3).fill([MessageStatus.fail, 500, 'broken']),
    );
    // Every retry carries the same webhook-id and a fresh signature over its own timestamp.
    assert.deepEqual(new Set(rx.received.map((r) => r.headers['webhook-id'])), new Set([msgId]));
  });

  test('a retry that succeeds ends the delivery as success', async (t) => {
    const e = await engine(t, backend);
    let calls = 0;
    const rx = await receiver(t, (_req, res) => res.writeHead(++calls === 1 ? 500 : 204).end());
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.success);
    assert.deepEqual(
      (await e.attempts(msgId)).map((a) => [a.status, a.responseStatusCode]),
      [
        [MessageStatus.fail, 500],
        [MessageStatus.success, 204],
      ],
    );
  });

  test('times out a receiver that never answers', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '50ms', deliveryTimeout: '150ms' });
    const rx = await receiver(t, () => {});
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.fail);
    const attempts = await e.attempts(msgId);
    assert.equal(attempts.length, 2);
    for (const attempt of attempts) {
      assert.equal(attempt.responseStatusCode, 0);
      assert.equal(attempt.response, 'timed out after 150 ms');
    }
  });

  test('does not follow redirects', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '50ms' });
    const rx = await receiver(t, (req, res) => {
      if (req.url === '/hook') res.writeHead(307, { location: '/elsewhere' }).end();
      else res.end('followed');
    });
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.fail);
    assert.deepEqual(
      rx.received.map((r) => r.url),
      ['/hook', '/hook'],
    );
    assert.deepEqual(
      (await e.attempts(msgId)).map((a) => a.responseStatusCode),
      [307, 307],
    );
  });

  test('records a refused connection with its reason', async (t) => {
    const e = await engine(t, backend, { retrySchedule: '50ms' });
    const rx = await receiver(t);
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    assert.ok(rx.port !== closed);
    const endpoint = await e.endpoint(`http://127.0.0.1:${closed}/hook`);
    const msgId = await e.send([endpoint]);
    const row = await e.settled(msgId, endpoint.id);
    assert.equal(row.status, MessageStatus.fail);
    const [attempt] = await e.attempts(msgId);
    assert.equal(attempt?.responseStatusCode, 0);
    assert.match(String(attempt?.response), /^connection refused \(ECONNREFUSED\)/);
  });

  test('records the address guard refusing a blocked address', async (t) => {
    const e = await engine(t, backend, { allowedSubnets: '', retrySchedule: '50ms' });
    const rx = await receiver(t);
    const byName = await e.endpoint(`http://localhost:${rx.port}/hook`);
    const byAddress = await e.endpoint(rx.url);
    const msgId = await e.send([byName, byAddress]);
    for (const endpoint of [byName, byAddress]) {
      assert.equal((await e.settled(msgId, endpoint.id)).status, MessageStatus.fail);
    }
    assert.equal(rx.received.length, 0);
    const attempts = await e.attempts(msgId);
    assert.equal(attempts.length, 4);
    for (const attempt of attempts) {
      assert.equal(attempt.responseStatusCode, 0);
      assert.match(
        attempt.response,
        /address (127\.0\.0\.1|::1) is loopback; blocked by the address guard \(HOOKYARD_ALLOWED_SUBNETS opens exceptions\)/,
      );
    }
  });

  test('signs with every key during a rotation grace period', async (t) => {
    const e = await engine(t, backend);
    const rx = await receiver(t);
    const current = generateSecret();
    const previous = generateSecret();
    const expired = generateSecret();
    const endpoint = await e.endpoint(rx.url, {
      secrets: [
        { key: current, expiresAt: null },
        { key: previous, expiresAt: Date.now() + 3_600_000 },
        { key: expired, expiresAt: Date.now() - 1_000 },
      ],
    });
    const msgId = await e.send([endpoint]);
    await e.settled(msgId, endpoint.id);
    const got = rx.received[0];
    assert.ok(got);
    assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
    const headers = got.headers as Record<string, string>;
    assert.doesNotThrow(() => new Webhook(current).verify(got.body, headers));
    assert.doesNotThrow(() => new Webhook(previous).verify(got.body, headers));
    assert.throws(() => new Webhook(expired).verify(got.body, headers));
  });

  test('fails a delivery whose payload was expunged or whose endpoint is gone', async (t) => {
    const e = await engine(t, backend, {}, { start: false });
    const rx = await receiver(t);
    const endpoint = await e.endpoint(rx.url);
    const expunged = await e.send([endpoint], null);
    const doomed = await e.endpoint(rx.url);
    const orphan = await e.send([doomed]);
    // Claims see the delivery, the endpoint lookup does not: what a delete racing a claim looks like.
    const cache = {
      get: async (id: string) =>
        id === doomed.id ? undefined : e.storage.endpoints.getMany([id]).then((r) => r[0]),
    };
    const destination = createDestinations(e.storage.config, logger);
    const dispatcher = createDispatcher({
      storage: e.storage,
      endpointCache: cache,
      destination,
      config: e.storage.config,
      logger,
    });
    t.after(async () => {
      await dispatcher.close();
      await destination.close();
    });
    await dispatcher.start();
    assert.equal((await e.settled(expunged, endpoint.id)).status, MessageStatus.fail);
    assert.equal((await e.settled(orphan, doomed.id)).status, MessageStatus.fail);
    assert.equal((await e.attempts(expunged))[0]?.response, 'the message payload was expunged');
    assert.equal((await e.attempts(orphan))[0]?.response, 'the endpoint was deleted');
    assert.equal(rx.received.length, 0);
  });

  test('holds deliveries to a disabled endpoint without attempting them', async (t) => {
    const e = await engine(t, backend);
    const rx = await receiver(t);
    const endpoint = await e.endpoint(rx.url, { disabled: true });
    const msgId = await e.send([endpoint]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const row = await e.delivery(msgId, endpoint.id);
    assert.equal(row?.status, MessageStatus.pending);
    assert.equal(row?.attempts, 0);
    assert.equal(rx.received.length, 0);
  });

  test('close() lets in-flight attempts finish and records them', async (t) => {
    const e = await engine(t, backend);
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const rx = await receiver(t, (_req, res) => {
      arrived();
      setTimeout(() => res.end('slow but fine'), 300);
    });
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    await arrival;
    await e.dispatcher.close();
    const row = await e.delivery(msgId, endpoint.id);
    assert.equal(row?.status, MessageStatus.success);
    assert.equal((await e.attempts(msgId))[0]?.response, 'slow but fine');
    // Closed: new work is not picked up.
    const later = await e.send([endpoint]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await e.delivery(later, endpoint.id))?.status, MessageStatus.pending);
  });

  test('close() abandons attempts past the drain bound without recording them', async (t) => {
    const e = await engine(t, backend, { deliveryTimeout: '10s' }, { drainTimeoutMs: 100 });
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const rx = await receiver(t, () => arrived());
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    await arrival;
    const started = Date.now();
    await e.dispatcher.close();
    assert.ok(Date.now() - started < 2_000);
    assert.equal((await e.attempts(msgId)).length, 0);
    assert.equal((await e.delivery(msgId, endpoint.id))?.attempts, 0);
  });

  test('resumes work leased by a previous process at start', async (t) => {
    const e = await engine(t, backend, {}, { start: false });
    const rx = await receiver(t);
    const endpoint = await e.endpoint(rx.url);
    const msgId = await e.send([endpoint]);
    const [task] = await e.storage.deliveries.claim('dead-process', 10, Date.now(), 3_600_000);
    assert.equal(task?.msgId, msgId);
    if (e.storage.capabilities.multipleWriters) {
      t.diagnostic('multi-writer backend: leases lapse by time instead');
      return;
    }
    await e.dispatcher.start();
    assert.equal((await e.settled(msgId, endpoint.id)).status, MessageStatus.success);
  });

  test("a stalled endpoint's backlog beyond its queue is parked, taken back, and sent once each", async (t) => {
    // Four slots: the endpoint takes 2 requests and queues 200 locally (two claims' worth); the rest
    // of 300 is parked while the receiver holds every request, and comes back as the queue drains.
    const e = await engine(t, backend, { deliveryConcurrency: '4' });
    let release = false;
    const held: ServerResponse[] = [];
    const rx = await receiver(t, (_req, res) => {
      if (release) res.end('ok');
      else held.push(res);
    });
    const taken: number[] = [];
    const unpark = e.storage.deliveries.unpark.bind(e.storage.deliveries);
    e.storage.deliveries.unpark = async (...args) => {
      const result = await unpark(...args);
      taken.push(result.taken);
      return result;
    };
    const endpoint = await e.endpoint(rx.url);
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await e.send([endpoint]));
    await waitFor(() => held.length >= 2);
    release = true;
    for (const res of held.splice(0)) res.end('ok');
    for (const id of ids)
      assert.equal((await e.settled(id, endpoint.id)).status, MessageStatus.success, `${id} delivered`);
    const sent = rx.received.map((request) => request.headers['webhook-id']);
    assert.equal(new Set(sent).size, 300, 'every message reached the receiver');
    assert.equal(sent.length, 300, 'none twice');
    assert.ok(
      taken.reduce((sum, n) => sum + n, 0) > 0,
      `parked deliveries were taken back (unpark took ${taken.join(', ')})`,
    );
  });

  test('delivers many messages with bounded concurrency', async (t) => {
    const e = await engine(t, backend, { deliveryConcurrency: '4' });
    let inFlight = 0;
    let peak = 0;
    const rx = await receiver(t, (_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 5);
    });
    const endpoint = await e.endpoint(rx.url);
    const ids = await Promise.all(Array.from({ length: 40 }, () => e.send([endpoint])));
    for (const id of ids) assert.equal((await e.settled(id, endpoint.id)).status, MessageStatus.success);
    assert.equal(rx.received.length, 40);
    assert.ok(peak <= 4, `peak ${peak}`);
  });

  test('a resting dispatcher takes new deliveries straight from ingest, without a claim', async (t) => {
    // No poll during the test: a claim it started could overlap an ingest, which then (rightly)
    // leaves its deliveries to the claim.
    const e = await engine(t, backend, {}, { pollIntervalMs: 60_000 });
    const rx = await receiver(t);
    const endpoint = await e.endpoint(rx.url);
    // Whichever way the first goes, the claim loop rests once it is delivered.
    await e.settled(await e.send([endpoint]), endpoint.id);
    const seen: TasksClaimed[] = [];
    const listener = (event: TasksClaimed) => seen.push(event);
    events.tasksClaimed.subscribe(listener);
    t.after(() => events.tasksClaimed.unsubscribe(listener));

    for (let i = 0; i < 3; i++) {
      const msgId = await e.send([endpoint]);
      assert.equal((await e.settled(msgId, endpoint.id)).status, MessageStatus.success);
    }
    assert.deepEqual(
      seen.map((event) => [event.via, event.count, event.parked]),
      [
        ['ingest', 1, 0],
        ['ingest', 1, 0],
        ['ingest', 1, 0],
      ],
    );
    assert.equal(rx.received.length, 4);
  });

  test('while every slot is busy, new deliveries queue behind older ones and go oldest first', async (t) => {
    const e = await engine(t, backend, { deliveryConcurrency: '1' });
    const rx = await receiver(t, (_req, res) => setTimeout(() => res.end('ok'), 30));
    const endpoint = await e.endpoint(rx.url);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await e.send([endpoint]));
    for (const id of ids) assert.equal((await e.settled(id, endpoint.id)).status, MessageStatus.success);
    assert.deepEqual(
      rx.received.map((request) => request.headers['webhook-id']),
      ids,
    );
  });
});
