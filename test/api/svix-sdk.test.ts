import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { type ApiException, MessageStatus, Svix } from 'svix';
import { createDestinations } from '../../src/delivery/destinations.ts';
import { createDispatcher } from '../../src/dispatch/dispatcher.ts';
import { createLogger } from '../../src/log/logger.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { ADMIN_TOKEN, harness } from './harness.ts';

/** Polls until `read` returns something truthy (deliveries complete asynchronously). */
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

forEachBackend((backend) => {
  test('the official Svix SDK drives every operation against Hookyard', async (t) => {
    const h = await harness({ retrySchedule: '1s', deliveryTimeout: '5s' }, backend);
    t.after(() => h.close());
    let failNext = 0;
    const receiver = await startReceiver({ respond: () => (failNext-- > 0 ? 500 : 200) });
    t.after(() => receiver.close());
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
    const serverUrl = `http://127.0.0.1:${port}`;
    const svix = new Svix(ADMIN_TOKEN, { serverUrl });

    // Health
    await svix.health.get();

    // Applications
    const app = await svix.application.create({ name: 'Shop', uid: 'shop', metadata: { tier: 'gold' } });
    assert.equal(app.uid, 'shop');
    assert.ok(app.createdAt instanceof Date && !Number.isNaN(app.createdAt.getTime()));
    assert.equal((await svix.application.get('shop')).id, app.id);
    assert.equal((await svix.application.update(app.id, { name: 'Shop 2', uid: 'shop' })).name, 'Shop 2');
    assert.equal(
      (await svix.application.patch('shop', { metadata: { tier: 'silver' } })).metadata['tier'],
      'silver',
    );
    assert.equal((await svix.application.getOrCreate({ name: 'ignored', uid: 'shop' })).id, app.id);
    const fresh = await svix.application.getOrCreate({ name: 'Fresh', uid: 'fresh' });
    assert.notEqual(fresh.id, app.id);
    for (let i = 0; i < 4; i++) await svix.application.create({ name: `Extra ${i}` });
    const seen: string[] = [];
    let iterator: string | null | undefined;
    let pages = 0;
    for (;;) {
      const page = await svix.application.list({ limit: 2, iterator });
      seen.push(...page.data.map((item) => item.id));
      pages++;
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.equal(seen.length, 6);
    assert.equal(new Set(seen).size, 6);
    assert.ok(pages >= 3);
    await svix.application.delete(fresh.id);
    await assert.rejects(
      svix.application.get(fresh.id),
      (error: ApiException<unknown>) => error.code === 404,
    );

    // Event types
    await svix.eventType.create({
      name: 'invoice.paid',
      description: 'An invoice was paid',
      schemas: { '1': { type: 'object', examples: [{ invoiceId: 'inv_1', amount: 42 }] } },
    });
    assert.equal((await svix.eventType.get('invoice.paid')).description, 'An invoice was paid');
    assert.equal((await svix.eventType.update('invoice.paid', { description: 'Paid' })).description, 'Paid');
    // PUT replaces: the schemas went back to null; put the example back with a patch.
    const patched = await svix.eventType.patch('invoice.paid', {
      schemas: { '1': { type: 'object', examples: [{ invoiceId: 'inv_1', amount: 42 }] } },
    });
    assert.ok(patched.schemas);
    await svix.eventType.create({ name: 'user.signup', description: 'A user signed up' });
    await svix.eventType.create({ name: 'doomed', description: 'to be deleted' });
    assert.deepEqual(
      (await svix.eventType.list()).data.map((item) => item.name),
      ['doomed', 'invoice.paid', 'user.signup'],
    );
    await svix.eventType.delete('doomed');
    assert.deepEqual(
      (await svix.eventType.list()).data.map((item) => item.name),
      ['invoice.paid', 'user.signup'],
    );

    // Endpoints
    const endpoint = await svix.endpoint.create(app.id, {
      url: `${receiver.url}/hook`,
      uid: 'main',
      description: 'main receiver',
      filterTypes: ['invoice.paid', 'user.signup'],
    });
    assert.deepEqual(endpoint.filterTypes, ['invoice.paid', 'user.signup']);
    const other = await svix.endpoint.create(app.id, { url: `${receiver.url}/other`, channels: ['eu'] });
    assert.equal((await svix.endpoint.get('shop', 'main')).id, endpoint.id);
    assert.equal((await svix.endpoint.list(app.id)).data.length, 2);
    assert.equal(
      (
        await svix.endpoint.update(app.id, endpoint.id, {
          url: `${receiver.url}/hook`,
          uid: 'main',
          filterTypes: ['invoice.paid'],
        })
      ).description,
      '',
    );
    assert.equal(
      (await svix.endpoint.patch(app.id, 'main', { description: 'patched' })).description,
      'patched',
    );
    const { key: firstSecret } = await svix.endpoint.getSecret(app.id, endpoint.id);
    assert.match(firstSecret, /^whsec_[A-Za-z0-9+/=]{32}$/);
    await svix.endpoint.rotateSecret(app.id, endpoint.id, {});
    const { key: secret } = await svix.endpoint.getSecret(app.id, endpoint.id);
    assert.notEqual(secret, firstSecret);
    await svix.endpoint.updateHeaders(app.id, endpoint.id, {
      headers: { 'X-Tenant': 'shop', Authorization: 'Bearer x' },
    });
    await svix.endpoint.patchHeaders(app.id, endpoint.id, { headers: { 'X-Extra': '1' } });
    const headers = await svix.endpoint.getHeaders(app.id, endpoint.id);
    assert.deepEqual(headers.headers, { 'X-Tenant': 'shop', 'X-Extra': '1' });
    assert.deepEqual(headers.sensitive, ['Authorization']);

    // Messages, delivered by the dispatcher to the receiver.
    const message = await svix.message.create(app.id, {
      eventType: 'invoice.paid',
      eventId: 'evt-1',
      payload: { invoiceId: 'inv_9', amount: 10 },
    });
    assert.deepEqual(message.payload, { invoiceId: 'inv_9', amount: 10 });
    await receiver.waitFor(() => receiver.counts.has(message.id));
    const delivered = receiver.deliveries.find((item) => item.headers['webhook-id'] === message.id);
    assert.ok(delivered);
    assert.equal(delivered.headers['x-tenant'], 'shop');
    // Both the new secret and the rotated-out one (in its grace period) verify the delivery.
    for (const key of [secret, firstSecret]) {
      const verified = new Webhook(key).verify(delivered.body, delivered.headers as Record<string, string>);
      assert.deepEqual(verified, { invoiceId: 'inv_9', amount: 10 });
    }
    assert.equal((await svix.message.get(app.id, 'evt-1')).id, message.id);
    await assert.rejects(
      svix.message.create(app.id, { eventType: 'invoice.paid', eventId: 'evt-1', payload: {} }),
      (error: ApiException<unknown>) => error.code === 409,
    );
    for (let i = 0; i < 3; i++) {
      await svix.message.create(app.id, { eventType: 'user.signup', channels: ['eu'], payload: { i } });
    }
    const messageIds: string[] = [];
    iterator = undefined;
    for (;;) {
      const page = await svix.message.list(app.id, { limit: 2, iterator });
      messageIds.push(...page.data.map((item) => item.id));
      if (page.done) break;
      iterator = page.iterator;
    }
    assert.equal(messageIds.length, 4);
    assert.equal(messageIds.at(-1), message.id, 'newest first');
    assert.equal((await svix.message.list(app.id, { eventTypes: ['invoice.paid'] })).data.length, 1);

    // Attempts
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
    const destinations = await svix.messageAttempt.listAttemptedDestinations(app.id, message.id);
    assert.deepEqual(
      destinations.data.map((item) => item.id),
      [endpoint.id],
    );
    assert.equal(destinations.data[0]?.statusText, 'success');
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

    const example = await svix.endpoint.sendExample(app.id, endpoint.id, { eventType: 'invoice.paid' });
    assert.deepEqual(example.payload, { invoiceId: 'inv_1', amount: 42 });
    await receiver.waitFor(() => receiver.counts.has(example.id));

    await svix.message.expungeContent(app.id, message.id);
    assert.deepEqual((await svix.message.get(app.id, message.id)).payload, { expired: true });

    // App portal: a token scoped to this application.
    const access = await svix.authentication.appPortalAccess(app.id, {});
    assert.match(access.token, /^appsk_/);
    const portal = new Svix(access.token, { serverUrl });
    assert.equal((await portal.endpoint.list(app.id)).data.length, 2);
    await assert.rejects(portal.application.list(), (error: ApiException<unknown>) => error.code === 403);
    await portal.authentication.logout();

    await svix.endpoint.delete(app.id, other.id);
    assert.equal((await svix.endpoint.list(app.id)).data.length, 1);
  });
});
