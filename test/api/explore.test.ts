import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { MessageStatus } from '../../src/storage/contract.ts';
import { forEachBackend } from '../helpers/backends.ts';
import { ADMIN_TOKEN, pipeline, waitFor } from '../helpers/pipeline.ts';
import { startReceiver } from '../helpers/receiver.ts';

/** The operator additions the dashboard reads: the cross-application explorer, app search, the live stream, attempt requests. */
forEachBackend((backend) => {
  test('the explorer lists and filters messages across applications and finds one by id or eventId', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Explorer app', uid: 'ex' } });
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Other 100%', uid: 'other' } });
    const endpoint = (
      await p.call({ method: 'POST', url: '/api/v1/app/ex/endpoint', payload: { url: rx.url } })
    ).json();
    const send = async (app: string, body: object) =>
      (await p.call({ method: 'POST', url: `/api/v1/app/${app}/msg`, payload: body })).json();
    const m1 = await send('ex', { eventType: 'a', eventId: 'e1', channels: ['c1'], payload: { n: 1 } });
    const m2 = await send('ex', { eventType: 'b', payload: { n: 2 } });
    const m3 = await send('other', { eventType: 'a', eventId: 'e1', payload: { n: 3 } });
    const list = async (query: string) => {
      const response = await p.call({ method: 'GET', url: `/api/v1/msg${query}` });
      assert.equal(response.statusCode, 200, query);
      return response.json() as {
        data: Array<{ id: string; appId: string; payload: unknown }>;
        iterator: string | null;
        done: boolean;
      };
    };
    assert.deepEqual(
      (await list('')).data.map((m) => m.id),
      [m3.id, m2.id, m1.id],
    );
    assert.deepEqual(
      (await list('?app_id=ex')).data.map((m) => m.id),
      [m2.id, m1.id],
    );
    assert.deepEqual((await list('?app_id=nope')).data, []);
    assert.deepEqual(
      (await list('?event_types=a')).data.map((m) => m.id),
      [m3.id, m1.id],
    );
    assert.deepEqual(
      (await list('?channel=c1')).data.map((m) => m.id),
      [m1.id],
    );
    assert.deepEqual(new Set((await list('?q=e1')).data.map((m) => m.id)), new Set([m1.id, m3.id]));
    assert.deepEqual(
      (await list(`?q=${m2.id}`)).data.map((m) => [m.id, m.appId]),
      [[m2.id, m2.id && (await p.storage.applications.get('ex'))?.id]],
    );
    assert.deepEqual((await list('?limit=1')).data[0]?.payload, {}, 'no payloads unless asked');
    assert.deepEqual((await list('?limit=1&with_content=true&app_id=ex')).data[0]?.payload, { n: 2 });
    const first = await list('?limit=2');
    assert.equal(first.done, false);
    assert.deepEqual(
      (await list(`?limit=2&iterator=${first.iterator}`)).data.map((m) => m.id),
      [m1.id],
    );

    await p.startDispatcher();
    await waitFor(
      async () => (await p.storage.deliveries.get(m2.id, endpoint.id))?.status === MessageStatus.success,
    );
    await waitFor(
      async () => (await p.storage.deliveries.get(m1.id, endpoint.id))?.status === MessageStatus.success,
    );
    assert.deepEqual(
      (await list('?status=0')).data.map((m) => m.id),
      [m2.id, m1.id],
    );
    assert.deepEqual((await list('?status=2')).data, []);

    const search = async (term: string) =>
      (
        (await p.call({ method: 'GET', url: `/api/v1/app?search=${encodeURIComponent(term)}` })).json()
          .data as Array<{ uid: string }>
      ).map((app) => app.uid);
    assert.deepEqual(await search('EXPLORER'), ['ex']);
    assert.deepEqual(await search('oth'), ['other']);
    assert.deepEqual(await search('100%'), ['other']);
    assert.deepEqual(await search('%'), ['other'], 'LIKE wildcards are literal');
    assert.deepEqual(await search('_'), []);
  });

  test('an attempt request is rebuilt exactly as signed', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Signed', uid: 'signed' } });
    const endpoint = (
      await p.call({ method: 'POST', url: '/api/v1/app/signed/endpoint', payload: { url: rx.url } })
    ).json();
    await p.call({
      method: 'PUT',
      url: `/api/v1/app/signed/endpoint/${endpoint.id}/headers`,
      payload: { headers: { 'x-tenant': 't1' } },
    });
    const message = (
      await p.call({
        method: 'POST',
        url: '/api/v1/app/signed/msg',
        payload: { eventType: 'e', payload: { a: 1 } },
      })
    ).json();
    await p.startDispatcher();
    await rx.waitFor(() => rx.deliveries.length === 1);
    const attempt = await waitFor(async () => {
      const attempts = (
        await p.call({ method: 'GET', url: `/api/v1/app/signed/attempt/msg/${message.id}` })
      ).json();
      return attempts.data[0] as { id: string } | undefined;
    });
    const rebuilt = (
      await p.call({
        method: 'GET',
        url: `/api/v1/app/signed/msg/${message.id}/attempt/${attempt.id}/request`,
      })
    ).json();
    const received = rx.deliveries[0];
    assert.ok(received);
    assert.equal(rebuilt.exact, true);
    // The receiver's response headers are recorded with the attempt (Node's server always sends a date).
    assert.equal(typeof rebuilt.responseHeaders?.date, 'string', JSON.stringify(rebuilt.responseHeaders));
    const expunged = await p.call({
      method: 'DELETE',
      url: `/api/v1/app/signed/msg/${message.id}/attempt/${attempt.id}/content`,
    });
    assert.equal(expunged.statusCode, 204, expunged.body);
    const after = (
      await p.call({
        method: 'GET',
        url: `/api/v1/app/signed/msg/${message.id}/attempt/${attempt.id}/request`,
      })
    ).json();
    assert.equal(after.responseHeaders, null, 'expunging the response content drops its headers too');
    assert.equal(rebuilt.body, received.body);
    for (const name of [
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'x-tenant',
      'content-type',
      'user-agent',
    ])
      assert.equal(rebuilt.headers[name], received.headers[name], name);
    const secret = (
      await p.call({ method: 'GET', url: `/api/v1/app/signed/endpoint/${endpoint.id}/secret` })
    ).json().key;
    assert.doesNotThrow(() => new Webhook(secret).verify(rebuilt.body, rebuilt.headers));
    const missing = await p.call({
      method: 'GET',
      url: `/api/v1/app/signed/msg/${message.id}/attempt/atmpt_nope/request`,
    });
    assert.equal(missing.statusCode, 404);
  });

  test('the live stream sends new messages and attempts as server-sent events', async (t) => {
    const rx = await startReceiver();
    t.after(() => rx.close());
    const p = await pipeline(t, backend);
    await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: 'Live', uid: 'live' } });
    await p.call({ method: 'POST', url: '/api/v1/app/live/endpoint', payload: { url: rx.url } });
    const old = (
      await p.call({
        method: 'POST',
        url: '/api/v1/app/live/msg',
        payload: { eventType: 'old', payload: {} },
      })
    ).json();
    const address = await p.app.listen({ port: 0, host: '127.0.0.1' });
    const abort = new AbortController();
    t.after(() => abort.abort());
    const response = await fetch(`${address}/api/v1/stream`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('content-type')), /^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const message = (
      await p.call({
        method: 'POST',
        url: '/api/v1/app/live/msg',
        payload: { eventType: 'new', payload: {} },
      })
    ).json();
    await p.startDispatcher();
    while (!(text.includes(`"id":"${message.id}"`) && text.includes('event: attempt'))) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    assert.match(text, new RegExp(`event: message\\ndata: \\{"id":"${message.id}"`));
    assert.match(text, new RegExp(`event: attempt\\ndata: \\{[^\\n]*"msgId":"${message.id}"`));
    assert.ok(!text.includes(`data: {"id":"${old.id}"`), 'only messages that arrived after connecting');
    abort.abort();
    const anonymous = await fetch(`${address}/api/v1/stream`);
    assert.equal(anonymous.status, 401);
  });
});
