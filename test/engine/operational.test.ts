import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { ConfigError, configWith } from '../../src/config/load.ts';
import { OPERATIONAL_APP_UID, OPERATIONAL_ENDPOINT_UID } from '../../src/operational/internal-app.ts';
import { createOperationalSink } from '../../src/operational/operational-sink.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { pipeline, silentLogger, waitFor } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

forEachBackend((backend) => {
  test('endpoint.created/updated/deleted reach the operational URL signed with its secret', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const secret = generateSecret();
    const p = await pipeline(t, backend, {
      settings: { operationalWebhookUrl: `${rx.url}/ops`, operationalWebhookSecret: secret },
      operational: async (storage) => {
        const sink = createOperationalSink({ storage, config: storage.config, logger: silentLogger });
        await sink.start();
        return sink;
      },
    });
    await p.startDispatcher();

    const app = await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Acme', uid: 'acme' } });
    assert.equal(app.statusCode, 201);
    const created = await p.call({
      method: 'POST',
      url: '/api/v1/app/acme/endpoint',
      payload: { url: 'https://example.com/hook', uid: 'main' },
    });
    assert.equal(created.statusCode, 201);
    const endpointId = created.json().id as string;
    const patched = await p.call({
      method: 'PATCH',
      url: `/api/v1/app/acme/endpoint/${endpointId}`,
      payload: { description: 'changed' },
    });
    assert.equal(patched.statusCode, 200);
    const deleted = await p.call({ method: 'DELETE', url: `/api/v1/app/acme/endpoint/${endpointId}` });
    assert.equal(deleted.statusCode, 204);

    await rx.waitFor(() => rx.deliveries.length >= 3, 10_000);
    const events = rx.deliveries.map((delivery) => {
      const verified = new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
      return verified as { type: string; timestamp: string; data: Record<string, unknown> };
    });
    events.sort((a, b) => order(a.type) - order(b.type));
    assert.deepEqual(
      events.map((event) => event.type),
      ['endpoint.created', 'endpoint.updated', 'endpoint.deleted'],
    );
    for (const event of events) {
      assert.deepEqual(event.data, {
        appId: app.json().id,
        appUid: 'acme',
        endpointId,
        endpointUid: 'main',
      });
      assert.ok(!Number.isNaN(Date.parse(event.timestamp)));
    }
    // The internal application is hidden from lists, readable, and closed to writes.
    const list = await p.call({ method: 'GET', url: '/api/v1/app' });
    assert.deepEqual(
      list.json().data.map((item: { uid: string }) => item.uid),
      ['acme'],
    );
    const messages = await p.call({ method: 'GET', url: `/api/v1/app/${OPERATIONAL_APP_UID}/msg` });
    assert.equal(messages.statusCode, 200);
    assert.equal(messages.json().data.length, 3);
    for (const request of [
      { method: 'POST', url: `/api/v1/app/${OPERATIONAL_APP_UID}/endpoint`, payload: { url: rx.url } },
      { method: 'DELETE', url: `/api/v1/app/${OPERATIONAL_APP_UID}` },
      { method: 'PATCH', url: `/api/v1/app/${OPERATIONAL_APP_UID}`, payload: { name: 'mine' } },
      { method: 'PUT', url: `/api/v1/app/${OPERATIONAL_APP_UID}`, payload: { name: 'mine' } },
      {
        method: 'POST',
        url: `/api/v1/app/${OPERATIONAL_APP_UID}/msg`,
        payload: { eventType: 'x', payload: {} },
      },
      {
        method: 'PATCH',
        url: `/api/v1/app/${OPERATIONAL_APP_UID}/endpoint/${OPERATIONAL_ENDPOINT_UID}`,
        payload: { url: 'https://evil.example' },
      },
      { method: 'POST', url: '/api/v1/app', payload: { name: 'squat', uid: OPERATIONAL_APP_UID } },
      { method: 'PATCH', url: '/api/v1/app/acme', payload: { uid: OPERATIONAL_APP_UID } },
    ] as const) {
      const response = await p.call(request);
      assert.equal(response.statusCode, 403, `${request.method} ${request.url}`);
      assert.equal(response.json().code, 'reserved_application');
    }
  });

  test('an endpoint disabled by a 410 is reported by an operational webhook', async (t) => {
    const ops = await startReceiver();
    t.after(() => ops.close());
    const gone = await startReceiver({ respond: () => 410 });
    t.after(() => gone.close());
    const secret = generateSecret();
    const p = await pipeline(t, backend, {
      settings: { operationalWebhookUrl: ops.url, operationalWebhookSecret: secret },
      operational: async (storage) => {
        const sink = createOperationalSink({ storage, config: storage.config, logger: silentLogger });
        await sink.start();
        return sink;
      },
    });
    await p.startDispatcher();
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Acme', uid: 'acme' } });
    const endpoint = (
      await p.call({
        method: 'POST',
        url: '/api/v1/app/acme/endpoint',
        payload: { url: gone.url, uid: 'gone' },
      })
    ).json();
    await p.call({ method: 'POST', url: '/api/v1/app/acme/msg', payload: { eventType: 'e', payload: {} } });

    const typeOf = (body: string) => (JSON.parse(body) as { type: string }).type;
    await ops.waitFor(() => ops.deliveries.some((delivery) => typeOf(delivery.body) === 'endpoint.disabled'));
    const disabled = ops.deliveries.find((delivery) => typeOf(delivery.body) === 'endpoint.disabled');
    assert.ok(disabled);
    const event = new Webhook(secret).verify(disabled.body, disabled.headers as Record<string, string>) as {
      data: { endpointId: string; failSince: string };
    };
    assert.equal(event.data.endpointId, endpoint.id);
    assert.ok(!Number.isNaN(Date.parse(event.data.failSince)));
    const shown = await p.call({ method: 'GET', url: `/api/v1/app/acme/endpoint/${endpoint.id}` });
    assert.equal(shown.json().disabled, true);
  });

  test('a failing operational receiver gets the same retries as any endpoint', async (t) => {
    let calls = 0;
    const rx = await startReceiver({ respond: () => (++calls <= 2 ? 500 : 200) });
    t.after(() => rx.close());
    const secret = generateSecret();
    const p = await pipeline(t, backend, {
      settings: { operationalWebhookUrl: rx.url, operationalWebhookSecret: secret },
      operational: async (storage) => {
        const sink = createOperationalSink({ storage, config: storage.config, logger: silentLogger });
        await sink.start();
        return sink;
      },
    });
    await p.startDispatcher();
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Acme', uid: 'acme' } });
    await p.call({
      method: 'POST',
      url: '/api/v1/app/acme/endpoint',
      payload: { url: 'https://example.com' },
    });

    await rx.waitFor(() => rx.deliveries.length >= 3, 10_000);
    const ids = new Set(rx.deliveries.map((delivery) => delivery.headers['webhook-id']));
    assert.equal(ids.size, 1, 'the three requests are attempts of one event');
    const msgId = String([...ids][0]);
    const app = await p.storage.applications.get(OPERATIONAL_APP_UID);
    assert.ok(app);
    const attempts = await waitFor(async () => {
      const page = await p.storage.attempts.listByMessage(app.id, msgId, {}, { limit: 10 });
      return page.data.length === 3 ? page.data : undefined;
    });
    assert.deepEqual(attempts.map((attempt) => attempt.responseStatusCode).sort(), [200, 500, 500]);
    const endpoint = await p.storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID);
    assert.ok(endpoint);
    const delivery = await p.storage.deliveries.get(msgId, endpoint.id);
    assert.equal(delivery?.status, MessageStatus.success);
  });

  test('start-up keeps the internal endpoint in line with the settings, also when processes race', async (t) => {
    const storage = await backend.create({ allowedSubnets: '127.0.0.0/8' });
    t.after(() => storage.cleanup());
    const first = generateSecret();
    const config = (url: string, secret: string) =>
      configWith({
        allowedSubnets: '127.0.0.0/8',
        operationalWebhookUrl: url,
        operationalWebhookSecret: secret,
      });
    // Two processes starting together (a PostgreSQL fleet; SQLite has one process per data directory)
    // create one application and one endpoint between them.
    const processes = storage.capabilities.multipleWriters
      ? [storage, await storage.openAnother()]
      : [storage];
    const sinks = processes.map((s) =>
      createOperationalSink({
        storage: s,
        config: config('http://127.0.0.1:9/a', first),
        logger: silentLogger,
      }),
    );
    await Promise.all(sinks.map((sink) => sink.start()));
    const app = await storage.applications.get(OPERATIONAL_APP_UID);
    assert.ok(app);
    assert.equal((await storage.endpoints.listAll(app.id)).length, 1);

    const second = generateSecret();
    await createOperationalSink({
      storage,
      config: config('http://127.0.0.1:9/b', second),
      logger: silentLogger,
    }).start();
    let endpoint = await storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID);
    assert.equal(endpoint?.url, 'http://127.0.0.1:9/b');
    assert.deepEqual(endpoint?.secrets, [{ key: second, expiresAt: null }]);
    assert.equal(endpoint?.disabled, false);

    // Turned off: queued events stay held, nothing is sent to the old URL.
    const off = createOperationalSink({ storage, config: config('', ''), logger: silentLogger });
    await off.start();
    await off.emit({ type: 'endpoint.deleted', data: { appId: 'app_x', endpointId: 'ep_x' } });
    endpoint = await storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID);
    assert.equal(endpoint?.disabled, true);
    assert.equal((await storage.messages.list(app.id, {}, { limit: 10 })).data.length, 0);
  });

  test('events about the operational application itself are dropped, so it never feeds itself', async (t) => {
    const storage = await backend.create({ allowedSubnets: '127.0.0.0/8' });
    t.after(() => storage.cleanup());
    const sink = createOperationalSink({
      storage,
      config: configWith({
        allowedSubnets: '127.0.0.0/8',
        operationalWebhookUrl: 'http://127.0.0.1:9/',
        operationalWebhookSecret: generateSecret(),
      }),
      logger: silentLogger,
    });
    await sink.start();
    const app = await storage.applications.get(OPERATIONAL_APP_UID);
    assert.ok(app);
    const lastAttempt = { id: 'atmpt_1', responseStatusCode: 500, timestamp: new Date().toISOString() };
    await sink.emit({
      type: 'message.attempt.exhausted',
      data: { appId: app.id, endpointId: 'ep_1', msgId: 'msg_1', lastAttempt },
    });
    await sink.emit({
      type: 'message.attempt.exhausted',
      data: { appId: 'app_other', endpointId: 'ep_1', msgId: 'msg_1', lastAttempt },
    });
    await sink.close();
    const stored = await storage.messages.list(app.id, {}, { limit: 10 });
    assert.equal(stored.data.length, 1);
    assert.equal(stored.data[0]?.eventType, 'message.attempt.exhausted');
    assert.deepEqual(JSON.parse(stored.data[0]?.payload ?? '{}').data.appId, 'app_other');
  });
});

test('operational settings are checked at start-up: a secret is required and the URL must pass the guard', async (t) => {
  const [backend] = (await import('../helpers/backends.ts')).backends();
  assert.ok(backend);
  const storage = await backend.create();
  t.after(() => storage.cleanup());
  const start = (overrides: Record<string, string>) =>
    createOperationalSink({ storage, config: configWith(overrides), logger: silentLogger }).start();
  await assert.rejects(start({ operationalWebhookUrl: 'https://ops.example.com/' }), ConfigError);
  await assert.rejects(
    start({ operationalWebhookUrl: 'http://127.0.0.1:9/', operationalWebhookSecret: generateSecret() }),
    (error: Error) => error instanceof ConfigError && /HOOKYARD_OPERATIONAL_WEBHOOK_URL/.test(error.message),
  );
  assert.throws(
    () => configWith({ operationalWebhookSecret: 'not-a-secret' }),
    /HOOKYARD_OPERATIONAL_WEBHOOK_SECRET/,
  );
  assert.throws(() => configWith({ operationalWebhookUrl: 'ftp://x' }), /HOOKYARD_OPERATIONAL_WEBHOOK_URL/);
});

function order(type: string): number {
  return ['endpoint.created', 'endpoint.updated', 'endpoint.deleted'].indexOf(type);
}
