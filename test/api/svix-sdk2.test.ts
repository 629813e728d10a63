import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import {
  type ApiException,
  BackgroundTaskStatus,
  BackgroundTaskType,
  MessageStatus,
  Svix,
  Webhook,
} from 'svix2';
import { createDestinations } from '../../src/delivery/destinations.ts';
import { createDispatcher } from '../../src/dispatch/dispatcher.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createOperationalSink } from '../../src/operational/operational-sink.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { ADMIN_TOKEN as PIPELINE_TOKEN, pipeline, silentLogger } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { ADMIN_TOKEN, type Harness, harness } from './harness.ts';

/**
 * The official Svix SDK at 2.x (`svix2`, an npm alias beside the 1.x `svix`), with the options it
 * sends by default: `with_content=false` on message reads, `expanded_statuses=true` on attempt lists,
 * and its newer field names (`eventTypes` on endpoints, `upsert`, `setHeaders`).
 */
async function eventually<T>(
  read: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const is = (code: number) => (error: ApiException<unknown>) => error.code === code;

export async function serveWithDispatcher(
  t: { after(fn: () => Promise<void>): void },
  h: Harness,
): Promise<{ serverUrl: string }> {
  const logger = createLogger('silent', false);
  const destination = createDestinations(h.storage.config, logger);
  const dispatcher = createDispatcher({
    storage: h.storage,
    endpointCache: h.endpointCache,
    destination,
    config: h.storage.config,
    logger,
  });
  await dispatcher.start();
  t.after(async () => {
    await dispatcher.close();
    await destination.close();
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as AddressInfo;
  return { serverUrl: `http://127.0.0.1:${port}` };
}

forEachBackend((backend) => {
  test('the official Svix SDK 2.x drives every OSS operation against Hookyard', async (t) => {
    const h = await harness({ retrySchedule: '1s', deliveryTimeout: '5s' }, backend);
    t.after(() => h.close());
    let failNext = 0;
    const receiver = await startReceiver({ respond: () => (failNext-- > 0 ? 500 : 200) });
    t.after(() => receiver.close());
    const { serverUrl } = await serveWithDispatcher(t, h);
    const svix = new Svix(ADMIN_TOKEN, { serverUrl });

    await svix.health.get();

    // Applications: listed oldest first, as Svix lists them.
    const app = await svix.application.create({ name: 'Shop', uid: 'shop', metadata: { tier: 'gold' } });
    assert.equal(app.uid, 'shop');
    assert.ok(app.createdAt instanceof Date && !Number.isNaN(app.createdAt.getTime()));
    assert.equal((await svix.application.get('shop')).id, app.id);
    assert.equal((await svix.application.upsert(app.id, { name: 'Shop 2', uid: 'shop' })).name, 'Shop 2');
    assert.equal(
      (await svix.application.patch('shop', { metadata: { tier: 'silver' } })).metadata['tier'],
      'silver',
    );
    assert.equal((await svix.application.getOrCreate({ name: 'ignored', uid: 'shop' })).id, app.id);
    const fresh = await svix.application.getOrCreate({ name: 'Fresh', uid: 'fresh' });
    for (let i = 0; i < 3; i++) await svix.application.create({ name: `Extra ${i}` });
    const seen: string[] = [];
    let iterator: string | null | undefined;
    for (;;) {
      const page = await svix.application.list({ limit: 2, iterator });
      seen.push(...page.data.map((item) => item.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.equal(seen.length, 5);
    assert.equal(seen[0], app.id, 'oldest first');
    await svix.application.delete(fresh.id);
    await assert.rejects(svix.application.get(fresh.id), is(404));

    // Event types
    const example = { invoiceId: 'inv_1', amount: 42 };
    await svix.eventType.create({
      name: 'invoice.paid',
      description: 'An invoice was paid',
      schemas: { '1': { type: 'object', examples: [example] } },
    });
    assert.equal((await svix.eventType.get('invoice.paid')).description, 'An invoice was paid');
    assert.equal(
      (
        await svix.eventType.upsert('invoice.paid', {
          description: 'Paid',
          schemas: { '1': { type: 'object', examples: [example] } },
        })
      ).description,
      'Paid',
    );
    await svix.eventType.create({ name: 'user.signup', description: 'A user signed up' });
    await svix.eventType.create({ name: 'doomed', description: 'to be deleted' });
    await svix.eventType.delete('doomed');
    assert.deepEqual(
      (await svix.eventType.list()).data.map((item) => item.name),
      ['invoice.paid', 'user.signup'],
    );
    assert.equal((await svix.eventType.list({ includeArchived: true })).data.length, 3);
    // Creating the archived name brings it back.
    assert.equal((await svix.eventType.create({ name: 'doomed', description: 'back' })).archived, false);
    await svix.eventType.delete('doomed', { expunge: true });
    await assert.rejects(svix.eventType.get('doomed'), is(404));

    // Endpoints
    const endpoint = await svix.endpoint.create(app.id, {
      url: `${receiver.url}/hook`,
      uid: 'main',
      description: 'main receiver',
      eventTypes: ['invoice.paid', 'user.signup'],
    });
    assert.deepEqual(endpoint.eventTypes, ['invoice.paid', 'user.signup']);
    const other = await svix.endpoint.create(app.id, { url: `${receiver.url}/other`, channels: ['eu'] });
    assert.equal((await svix.endpoint.get('shop', 'main')).id, endpoint.id);
    assert.equal((await svix.endpoint.list(app.id)).data.length, 2);
    const upserted = await svix.endpoint.upsert(app.id, endpoint.id, {
      url: `${receiver.url}/hook`,
      uid: 'main',
      eventTypes: ['invoice.paid'],
    });
    assert.equal(upserted.description, '');
    assert.equal(
      (await svix.endpoint.patch(app.id, 'main', { description: 'patched' })).description,
      'patched',
    );
    const { key: firstSecret } = await svix.endpoint.getSecret(app.id, endpoint.id);
    await svix.endpoint.rotateSecret(app.id, endpoint.id, {});
    const { key: secret } = await svix.endpoint.getSecret(app.id, endpoint.id);
    assert.notEqual(secret, firstSecret);
    await svix.endpoint.setHeaders(app.id, endpoint.id, {
      headers: { 'X-Tenant': 'shop', 'X-Auth-Token': 'hidden' },
    });
    await svix.endpoint.patchHeaders(app.id, endpoint.id, { headers: { 'X-Extra': '1' } });
    const headers = await svix.endpoint.getHeaders(app.id, endpoint.id);
    assert.deepEqual(headers.headers, { 'X-Tenant': 'shop', 'X-Extra': '1' });
    assert.deepEqual(headers.sensitive, ['X-Auth-Token']);

    // Messages: 2.x asks for with_content=false unless told otherwise.
    const message = await svix.message.create(app.id, {
      eventType: 'invoice.paid',
      eventId: 'evt-1',
      payload: { invoiceId: 'inv_9', amount: 10 },
    });
    assert.deepEqual(message.payload, {});
    const withContent = await svix.message.get(app.id, message.id, { withContent: true });
    assert.deepEqual(withContent.payload, { invoiceId: 'inv_9', amount: 10 });
    await receiver.waitFor(() => receiver.counts.has(message.id));
    const delivered = receiver.deliveries.find((item) => item.headers['webhook-id'] === message.id);
    assert.ok(delivered);
    assert.equal(delivered.headers['x-tenant'], 'shop');
    // The 2.x SDK's own verifier and a Standard Webhooks one both accept the default headers.
    for (const key of [secret, firstSecret]) {
      const headersIn = delivered.headers as Record<string, string>;
      // 2.x's verify returns nothing; it throws on a bad signature.
      assert.doesNotThrow(() => new Webhook(key).verify(delivered.body, headersIn));
      assert.deepEqual(new StandardWebhook(key).verify(delivered.body, headersIn), {
        invoiceId: 'inv_9',
        amount: 10,
      });
    }
    assert.equal((await svix.message.get(app.id, 'evt-1')).id, message.id);
    await assert.rejects(
      svix.message.create(app.id, { eventType: 'invoice.paid', eventId: 'evt-1', payload: {} }),
      is(409),
    );
    for (let i = 0; i < 3; i++) {
      await svix.message.create(app.id, { eventType: 'user.signup', channels: ['eu'], payload: { i } });
    }
    const messageIds: string[] = [];
    iterator = undefined;
    for (;;) {
      const page = await svix.message.list(app.id, { limit: 2, iterator });
      messageIds.push(...page.data.map((item) => item.id));
      for (const item of page.data) assert.deepEqual(item.payload, {});
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.equal(messageIds.length, 4);
    assert.equal(messageIds.at(-1), message.id, 'newest first');
    assert.equal((await svix.message.list(app.id, { eventTypes: ['invoice.paid'] })).data.length, 1);
    assert.equal((await svix.message.list(app.id, { channel: 'eu' })).data.length, 3);

    // Attempts, with expanded_statuses=true (2.x's default).
    const attempts = await eventually(async () => {
      const list = await svix.messageAttempt.listByMsg(app.id, message.id);
      return list.data.length > 0 && list;
    });
    const attempt = attempts.data[0];
    assert.ok(attempt);
    assert.equal(attempt.status, MessageStatus.Success);
    assert.equal(attempt.responseStatusCode, 200);
    assert.equal((await svix.messageAttempt.get(app.id, message.id, attempt.id)).id, attempt.id);
    const byEndpoint = await svix.messageAttempt.listByEndpoint(app.id, endpoint.id, { withMsg: true });
    assert.ok(byEndpoint.data.some((item) => item.id === attempt.id && item.msg?.id === message.id));
    assert.equal(
      (await svix.messageAttempt.listByEndpoint(app.id, endpoint.id, { status: MessageStatus.Fail })).data
        .length,
      0,
    );
    const destinations = await svix.messageAttempt.listAttemptedDestinations(app.id, message.id);
    assert.deepEqual(
      destinations.data.map((item) => item.id),
      [endpoint.id],
    );
    const attempted = await svix.messageAttempt.listAttemptedMessages(app.id, endpoint.id);
    assert.deepEqual(
      attempted.data.map((item) => item.id),
      [message.id],
    );
    await svix.messageAttempt.expungeContent(app.id, message.id, attempt.id);
    assert.equal((await svix.messageAttempt.get(app.id, message.id, attempt.id)).response, '');

    await svix.messageAttempt.resend(app.id, message.id, endpoint.id);
    await receiver.waitFor(() => (receiver.counts.get(message.id) ?? 0) >= 2);
    const afterResend = await eventually(async () => {
      const list = await svix.messageAttempt.listByMsg(app.id, message.id);
      return list.data.length >= 2 && list;
    });
    assert.equal(afterResend.data[0]?.triggerType, 1, 'the resend is a manual attempt');

    // A failing delivery, then recovery.
    failNext = 1;
    const failing = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n: 2 } });
    await eventually(async () => {
      const list = await svix.messageAttempt.listByMsg(app.id, failing.id);
      return list.data.some((item) => item.status === MessageStatus.Fail) && list;
    });
    const recovered = await svix.endpoint.recover(app.id, endpoint.id, {
      since: new Date(Date.now() - 3_600_000),
    });
    assert.equal(recovered.task, 'endpoint.recover');
    const stats = await svix.endpoint.getStats(app.id, endpoint.id);
    assert.ok(stats.success + stats.sending + stats.pending + stats.fail >= 2);

    const sent = await svix.endpoint.sendExample(app.id, endpoint.id, { eventType: 'invoice.paid' });
    await receiver.waitFor(() => receiver.counts.has(sent.id));
    const exampleDelivery = receiver.deliveries.find((item) => item.headers['webhook-id'] === sent.id);
    assert.deepEqual(JSON.parse(exampleDelivery?.body ?? 'null'), example);

    await svix.message.expungeContent(app.id, message.id);
    assert.deepEqual((await svix.message.get(app.id, message.id, { withContent: true })).payload, {
      expired: true,
    });
    await assert.rejects(svix.messageAttempt.resend(app.id, message.id, endpoint.id), is(400));

    // App portal
    const access = await svix.authentication.appPortalAccess(app.id, {});
    assert.match(access.token, /^appsk_/);
    const portal = new Svix(access.token, { serverUrl });
    assert.equal((await portal.endpoint.list(app.id)).data.length, 2);
    await assert.rejects(portal.application.list(), is(403));
    await portal.authentication.logout();

    await svix.endpoint.delete(app.id, other.id);
    assert.equal((await svix.endpoint.list(app.id)).data.length, 1);
  });
});

forEachBackend((backend) => {
  test('SDK 2.x: bulk replay, replay missing, background tasks, precheck, expunges, tags, deliverAt', async (t) => {
    const h = await harness({ retrySchedule: '1s', deliveryTimeout: '5s' }, backend);
    t.after(() => h.close());
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const { serverUrl } = await serveWithDispatcher(t, h);
    const svix = new Svix(ADMIN_TOKEN, { serverUrl });
    const app = await svix.application.create({ name: 'Shop', uid: 'shop' });
    const since = new Date(Date.now() - 60_000);

    // Precheck: would a message reach any endpoint?
    assert.equal((await svix.message.precheck(app.id, { eventType: 'order.paid' })).active, false);
    const endpoint = await svix.endpoint.create(app.id, {
      url: `${receiver.url}/a`,
      eventTypes: ['order.paid'],
    });
    assert.equal((await svix.message.precheck(app.id, { eventType: 'order.paid' })).active, true);
    assert.equal((await svix.message.precheck(app.id, { eventType: 'other' })).active, false);

    // Tags, and the tag filter on message and attempt lists.
    const tagged = await svix.message.create(app.id, {
      eventType: 'order.paid',
      payload: { n: 1 },
      tags: ['vip', 'eu/west'],
      payloadRetentionHours: 2,
    });
    assert.deepEqual(tagged.tags, ['vip', 'eu/west']);
    const plain = await svix.message.create(app.id, { eventType: 'order.paid', payload: { n: 2 } });
    assert.deepEqual(
      (await svix.message.list(app.id, { tag: 'vip' })).data.map((item) => item.id),
      [tagged.id],
    );
    const stored = await h.storage.messages.get(app.id, tagged.id);
    assert.equal(stored && stored.payloadExpiresAt - stored.createdAt, 2 * 3_600_000);
    await receiver.waitFor(() => receiver.counts.has(tagged.id) && receiver.counts.has(plain.id));
    await eventually(async () => (await svix.messageAttempt.listByMsg(app.id, plain.id)).data.length > 0);
    assert.deepEqual(
      (await svix.messageAttempt.listByEndpoint(app.id, endpoint.id, { tag: 'vip' })).data.map(
        (item) => item.msgId,
      ),
      [tagged.id],
    );
    assert.deepEqual(
      (await svix.messageAttempt.listAttemptedMessages(app.id, endpoint.id, { tag: 'eu/west' })).data.map(
        (item) => item.id,
      ),
      [tagged.id],
    );

    // Bulk replay with a tag filter: only the tagged message goes out again, as a background task.
    const replay = await svix.endpoint.bulkReplay(app.id, endpoint.id, { since, tag: 'vip' });
    assert.equal(replay.task, 'endpoint.bulk-replay');
    const finished = await eventually(async () => {
      const task = await svix.backgroundTask.get(replay.id);
      return task.status === 'finished' && task;
    });
    assert.equal(finished.data['replayed'], 1);
    await receiver.waitFor(() => receiver.counts.get(tagged.id) === 2);
    assert.equal(receiver.counts.get(plain.id), 1);

    // Replay missing: a new endpoint gets the messages it matches and never had.
    const late = await svix.endpoint.create(app.id, { url: `${receiver.url}/late` });
    const missing = await svix.endpoint.replayMissing(app.id, late.id, { since });
    const missingDone = await eventually(async () => {
      const task = await svix.backgroundTask.get(missing.id);
      return task.status === 'finished' && task;
    });
    assert.equal(missingDone.data['replayed'], 2);
    await receiver.waitFor(() => receiver.counts.get(tagged.id) === 3 && receiver.counts.get(plain.id) === 2);
    const again = await svix.endpoint.replayMissing(app.id, late.id, { since });
    const againDone = await eventually(async () => {
      const task = await svix.backgroundTask.get(again.id);
      return task.status === 'finished' && task;
    });
    assert.equal(againDone.data['replayed'], 0, 'nothing is missing any more');

    const tasks = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointBulkReplay });
    assert.deepEqual(
      tasks.data.map((task) => task.id),
      [replay.id],
    );
    assert.ok((await svix.backgroundTask.list({ status: BackgroundTaskStatus.Finished })).data.length >= 3);
    await assert.rejects(svix.backgroundTask.get('qtask_nope'), is(404));

    // Scheduled delivery: stored at once, first attempted at deliverAt, not before.
    const deliverAt = new Date(Date.now() + 1500);
    const scheduled = await svix.message.create(app.id, {
      eventType: 'order.paid',
      payload: { n: 3 },
      deliverAt,
    });
    assert.equal(scheduled.deliverAt?.getTime(), deliverAt.getTime());
    const queued = await svix.messageAttempt.listAttemptedDestinations(app.id, scheduled.id);
    assert.equal(
      queued.data.find((item) => item.id === endpoint.id)?.nextAttempt?.getTime(),
      deliverAt.getTime(),
    );
    await receiver.waitFor(() => receiver.counts.has(scheduled.id));
    const first = receiver.deliveries.find((item) => item.headers['webhook-id'] === scheduled.id);
    assert.ok(first && first.receivedAt >= deliverAt.getTime(), 'not delivered before deliverAt');

    // A message scheduled an hour ahead: still queued when its payload is purged below.
    const parked = await svix.message.create(app.id, {
      eventType: 'order.paid',
      payload: { n: 4 },
      deliverAt: new Date(Date.now() + 3_600_000),
    });

    // Expunges: some messages by id or eventId, then the whole application as a background task.
    const bulk = await svix.message.bulkExpungeContent(app.id, { ids: [plain.id, 'msg_missing'] });
    assert.deepEqual(bulk.results, { [plain.id]: 'expunged', msg_missing: 'not-found' });
    assert.deepEqual((await svix.message.get(app.id, plain.id, { withContent: true })).payload, {
      expired: true,
    });
    const purge = await svix.message.expungeAllContents(app.id);
    assert.equal(purge.task, 'application.purge_content');
    await eventually(async () => (await svix.backgroundTask.get(purge.id)).status === 'finished');
    assert.deepEqual((await svix.message.get(app.id, tagged.id, { withContent: true })).payload, {
      expired: true,
    });

    // Its queued delivery can never be sent now: canceled (4), which 2.x asks to see (expanded_statuses);
    // a client that does not ask sees success (0), as Svix shows it.
    const attemptedNow = await svix.messageAttempt.listAttemptedMessages(app.id, endpoint.id);
    const canceled = attemptedNow.data.find((item) => item.id === parked.id);
    assert.equal(canceled?.status, MessageStatus.Canceled);
    assert.equal(canceled?.statusText, 'canceled');
    assert.equal(canceled?.nextAttempt ?? null, null);
    const legacy = await h.call({ url: `/api/v1/app/${app.id}/endpoint/${endpoint.id}/msg` });
    const legacyItem = legacy.json().data.find((item: { id: string }) => item.id === parked.id);
    assert.equal(legacyItem.status, 0);
    assert.equal((await svix.endpoint.getStats(app.id, endpoint.id)).canceled, 1);
  });
});

forEachBackend((backend) => {
  test('SDK 2.x: authentication.expireAll, eventType.importOpenapi, environment export and import', async (t) => {
    const h = await harness({}, backend);
    t.after(() => h.close());
    const { serverUrl } = await serveWithDispatcher(t, h);
    const svix = new Svix(ADMIN_TOKEN, { serverUrl });

    // expireAll: every token issued so far stops working; new ones work. With sessionIds, only those.
    const app = await svix.application.create({ name: 'Shop', uid: 'shop' });
    const old = await svix.authentication.appPortalAccess(app.id, {});
    const session = await svix.authentication.appPortalAccess(app.id, { sessionId: 'user_1' });
    const other = await svix.authentication.appPortalAccess(app.id, { sessionId: 'user_2' });
    const read = (token: string) => new Svix(token, { serverUrl }).endpoint.list(app.id);
    await read(old.token);
    await svix.authentication.expireAll(app.id, { sessionIds: ['user_1'] });
    await assert.rejects(read(session.token), is(401));
    await read(old.token);
    await read(other.token);
    await svix.authentication.expireAll(app.id, {});
    await assert.rejects(read(old.token), is(401));
    await assert.rejects(read(other.token), is(401));
    const fresh = await svix.authentication.appPortalAccess(app.id, {});
    await read(fresh.token);
    // A grace period: old tokens keep working until it ends.
    await svix.authentication.expireAll(app.id, { expiry: 3600 });
    await read(fresh.token);

    // importOpenapi: webhooks become event types, with $refs inlined and the example kept.
    const spec = {
      openapi: '3.1.0',
      info: { title: 'Shop', version: '1' },
      webhooks: {
        'order.paid': {
          post: {
            description: 'An order was paid',
            requestBody: {
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/Order' },
                  example: { id: 'ord_1', total: 5 },
                },
              },
            },
          },
        },
        'order.refunded': { post: { summary: 'Refunded', deprecated: true } },
      },
      components: {
        schemas: {
          Order: { type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } } },
        },
      },
    };
    await svix.eventType.create({ name: 'legacy', description: 'not in the spec' });
    const dry = await svix.eventType.importOpenapi({ spec, dryRun: true });
    assert.deepEqual(dry.data.modified, []);
    assert.deepEqual(
      dry.data.toModify?.map((item) => item.name),
      ['order.paid', 'order.refunded'],
    );
    await assert.rejects(svix.eventType.get('order.paid'), is(404));
    const imported = await svix.eventType.importOpenapi({ spec, replaceAll: true });
    assert.deepEqual(imported.data.modified.sort(), ['legacy', 'order.paid', 'order.refunded']);
    const paid = await svix.eventType.get('order.paid');
    assert.equal(paid.description, 'An order was paid');
    assert.deepEqual(
      (paid.schemas as Record<string, { properties: unknown; examples: unknown }>)['1']?.examples,
      [{ id: 'ord_1', total: 5 }],
    );
    assert.equal((await svix.eventType.get('order.refunded')).deprecated, true);
    assert.equal((await svix.eventType.get('legacy')).archived, true);
    const yaml =
      'openapi: 3.1.0\ninfo: {title: y, version: "1"}\nwebhooks:\n  user.created:\n    post:\n      summary: A user\n';
    assert.deepEqual((await svix.eventType.importOpenapi({ specRaw: yaml })).data.modified, ['user.created']);
    await assert.rejects(svix.eventType.importOpenapi({}), is(400));

    // Environment: export, then import into a fresh server through the SDK, which passes it through.
    const endpoint = await svix.endpoint.create(app.id, {
      url: 'https://example.com/hook',
      uid: 'main',
      eventTypes: ['order.paid'],
      metadata: { team: 'a' },
    });
    const exported = await svix.environment.export();
    assert.ok(exported.eventTypes.some((item) => item.name === 'order.paid'));
    const settings = exported.settings as {
      hookyard: { applications: { endpoints: Record<string, unknown>[] }[] };
    };
    assert.equal(
      settings.hookyard.applications[0]?.endpoints[0]?.['secret'],
      undefined,
      'no secrets unless asked',
    );

    const target = await harness({}, backend);
    t.after(() => target.close());
    const { serverUrl: targetUrl } = await serveWithDispatcher(t, target);
    const copy = new Svix(ADMIN_TOKEN, { serverUrl: targetUrl });
    await copy.environment.import({
      eventTypes: exported.eventTypes,
      settings: exported.settings,
      connectors: exported.connectors,
    });
    assert.equal((await copy.eventType.get('order.paid')).description, 'An order was paid');
    const copied = await copy.endpoint.get('shop', 'main');
    assert.equal(copied.url, endpoint.url);
    assert.deepEqual(copied.eventTypes, ['order.paid']);
    assert.deepEqual(copied.metadata, { team: 'a' });
    assert.notEqual(
      (await copy.endpoint.getSecret('shop', 'main')).key,
      (await svix.endpoint.getSecret(app.id, endpoint.id)).key,
    );
    // Importing again changes nothing but updates in place.
    await copy.environment.import({ eventTypes: exported.eventTypes, settings: exported.settings });
    assert.equal((await copy.application.list()).data.length, 1);

    // With include_secrets the key (and headers) travel too.
    await svix.endpoint.setHeaders(app.id, endpoint.id, { headers: { 'X-Api-Key': 'k' } });
    const withSecrets = await h.call({
      method: 'POST',
      url: '/api/v1/environment/export?include_secrets=true',
    });
    await target.call({ method: 'POST', url: '/api/v1/environment/import', payload: withSecrets.json() });
    assert.equal(
      (await copy.endpoint.getSecret('shop', 'main')).key,
      (await svix.endpoint.getSecret(app.id, endpoint.id)).key,
    );
    assert.deepEqual((await copy.endpoint.getHeaders('shop', 'main')).sensitive, ['X-Api-Key']);
  });
});

forEachBackend((backend) => {
  test('SDK 2.x: operational-webhook endpoints receive the operational events they filter on', async (t) => {
    const onlyCreated = await startReceiver();
    t.after(() => onlyCreated.close());
    const everything = await startReceiver();
    t.after(() => everything.close());
    const seeded = await startReceiver();
    t.after(() => seeded.close());
    const seedSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const p = await pipeline(t, backend, {
      settings: { operationalWebhookUrl: `${seeded.url}/ops`, operationalWebhookSecret: seedSecret },
      operational: async (storage) => {
        const sink = createOperationalSink({ storage, config: storage.config, logger: silentLogger });
        await sink.start();
        return sink;
      },
    });
    await p.startDispatcher();
    await p.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = p.app.server.address() as AddressInfo;
    const svix = new Svix(PIPELINE_TOKEN, { serverUrl: `http://127.0.0.1:${port}` });
    const ops = svix.operationalWebhook.endpoint;

    // The endpoint seeded from HOOKYARD_OPERATIONAL_WEBHOOK_URL is listed and readable, not writable.
    const [seed] = (await ops.list()).data;
    assert.equal(seed?.uid, 'hookyard.operational');
    assert.equal((await ops.getSecret('hookyard.operational')).key, seedSecret);
    await assert.rejects(ops.delete('hookyard.operational'), is(403));

    const created = await ops.create({
      url: `${onlyCreated.url}/a`,
      uid: 'created-only',
      eventTypes: ['endpoint.created'],
    });
    assert.deepEqual(created.eventTypes, ['endpoint.created']);
    const all = await ops.create({ url: `${everything.url}/b`, description: 'all events' });
    assert.equal((await ops.get('created-only')).id, created.id);
    assert.equal((await ops.list()).data.length, 3);
    assert.equal(
      (await ops.upsert(all.id, { url: `${everything.url}/b`, description: 'every event' })).description,
      'every event',
    );
    await ops.setHeaders(all.id, { headers: { 'X-Team': 'ops', Authorization: 'Bearer t' } });
    assert.deepEqual(await ops.getHeaders(all.id), {
      headers: { 'X-Team': 'ops' },
      sensitive: ['Authorization'],
    });
    const { key: before } = await ops.getSecret(all.id);
    await ops.rotateSecret(all.id, {});
    const { key: secret } = await ops.getSecret(all.id);
    assert.notEqual(secret, before);

    // An ordinary endpoint created then deleted: created reaches both, deleted only the unfiltered one.
    const app = await svix.application.create({ name: 'Shop', uid: 'shop' });
    const endpoint = await svix.endpoint.create(app.id, { url: 'https://example.com/hook' });
    await svix.endpoint.delete(app.id, endpoint.id);
    const typeOf = (body: string) => (JSON.parse(body) as { type: string }).type;
    await everything.waitFor(() => everything.deliveries.length >= 2);
    await onlyCreated.waitFor(() => onlyCreated.deliveries.length >= 1);
    await seeded.waitFor(() => seeded.deliveries.length >= 2);
    assert.deepEqual(everything.deliveries.map((item) => typeOf(item.body)).sort(), [
      'endpoint.created',
      'endpoint.deleted',
    ]);
    const delivery = everything.deliveries[0];
    assert.ok(delivery);
    assert.equal(delivery.headers['x-team'], 'ops');
    assert.doesNotThrow(() =>
      new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>),
    );

    await ops.delete('created-only');
    await assert.rejects(ops.get('created-only'), is(404));
    // Whatever arrives after the deletion, the filtered endpoint only ever heard endpoint.created.
    const more = await svix.endpoint.create(app.id, { url: 'https://example.com/hook2' });
    await svix.endpoint.delete(app.id, more.id);
    await everything.waitFor(() => everything.deliveries.length >= 4);
    assert.deepEqual(
      onlyCreated.deliveries.map((item) => typeOf(item.body)),
      ['endpoint.created'],
    );
  });
});
