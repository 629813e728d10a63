import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forEachBackend, type TestBackend } from '../helpers/backends.ts';
import { type Harness, harness } from './harness.ts';

const V1 = '/api/v1';

function json(response: { body: string }) {
  return JSON.parse(response.body);
}

async function setup(t: { after(fn: () => Promise<void>): void }, backend: TestBackend) {
  const h = await harness({}, backend);
  t.after(() => h.close());
  const created = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'filters' } });
  assert.equal(created.statusCode, 201, created.body);
  return { h, app: String(json(created).id) };
}

async function endpoint(h: Harness, app: string, body: Record<string, unknown>) {
  const response = await h.call({
    method: 'POST',
    url: `${V1}/app/${app}/endpoint`,
    payload: { url: 'http://127.0.0.1:9/hook', ...body },
  });
  return { status: response.statusCode, body: json(response) };
}

/** The endpoints a message was fanned out to, by id. */
async function fannedOut(h: Harness, app: string, payload: unknown): Promise<string[]> {
  const sent = await h.call({
    method: 'POST',
    url: `${V1}/app/${app}/msg`,
    payload: { eventType: 'invoice.paid', payload },
  });
  assert.equal(sent.statusCode, 202, sent.body);
  const listed = await h.call({ url: `${V1}/app/${app}/msg/${json(sent).id}/endpoint` });
  assert.equal(listed.statusCode, 200, listed.body);
  return (json(listed).data as { id: string }[]).map((entry) => entry.id).sort();
}

forEachBackend((backend) => {
  describe('payload filters on endpoints', () => {
    test('create, get, update and patch keep the filter; {} and null clear it', async (t) => {
      const { h, app } = await setup(t, backend);
      const filter = { 'data.amount': { $gte: 100 }, data: { currency: 'usd' } };
      const created = await endpoint(h, app, { filter });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.filter, filter);
      const id = created.body.id;
      assert.deepEqual(json(await h.call({ url: `${V1}/app/${app}/endpoint/${id}` })).filter, filter);

      const patched = await h.call({
        method: 'PATCH',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { description: 'kept' },
      });
      assert.deepEqual(json(patched).filter, filter);
      const replaced = await h.call({
        method: 'PATCH',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { filter: { type: 'x' } },
      });
      assert.deepEqual(json(replaced).filter, { type: 'x' });
      const cleared = await h.call({
        method: 'PATCH',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { filter: {} },
      });
      assert.equal(json(cleared).filter, null);

      const put = await h.call({
        method: 'PUT',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { url: 'http://127.0.0.1:9/hook', filter: { tags: 'eu' } },
      });
      assert.deepEqual(json(put).filter, { tags: 'eu' });
      const putWithout = await h.call({
        method: 'PUT',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { url: 'http://127.0.0.1:9/hook' },
      });
      assert.equal(json(putWithout).filter, null);
      assert.equal((await endpoint(h, app, {})).body.filter, null);
    });

    test('an invalid filter is 422 with the path of every mistake', async (t) => {
      const { h, app } = await setup(t, backend);
      const response = await endpoint(h, app, {
        filter: { 'data.amount': { $between: [1, 2] }, $or: [{ a: { $exist: 'yes' } }] },
      });
      assert.equal(response.status, 422);
      assert.equal(response.body.code, 'validation');
      assert.deepEqual(
        response.body.detail.map((item: { loc: unknown[] }) => item.loc),
        [
          ['body', 'filter', 'data.amount', '$between'],
          ['body', 'filter', '$or', 0, 'a', '$exist'],
        ],
      );
      assert.match(response.body.detail[0].msg, /unknown operator \$between/);
      const id = (await endpoint(h, app, {})).body.id;
      const patched = await h.call({
        method: 'PATCH',
        url: `${V1}/app/${app}/endpoint/${id}`,
        payload: { filter: { a: { $gt: [] } } },
      });
      assert.equal(patched.statusCode, 422);
      assert.deepEqual(json(patched).detail[0].loc, ['body', 'filter', 'a', '$gt']);
    });

    test('fan-out sends a message only to endpoints whose filter matches its payload', async (t) => {
      const { h, app } = await setup(t, backend);
      const all = (await endpoint(h, app, {})).body.id;
      const big = (await endpoint(h, app, { filter: { 'data.amount': { $gte: 1000 } } })).body.id;
      const eu = (await endpoint(h, app, { filter: { 'data.tags': 'eu' } })).body.id;
      const euOnlyOtherType = (
        await endpoint(h, app, { filter: { 'data.tags': 'eu' }, filterTypes: ['user.signup'] })
      ).body.id;
      assert.deepEqual(await fannedOut(h, app, { data: { amount: 5, tags: ['us'] } }), [all]);
      assert.deepEqual(
        await fannedOut(h, app, { data: { amount: 5000, tags: ['eu'] } }),
        [all, big, eu].sort(),
      );
      assert.deepEqual(await fannedOut(h, app, { data: { amount: 5000 } }), [all, big].sort());
      assert.ok(!(await fannedOut(h, app, { data: { tags: ['eu'] } })).includes(euOnlyOtherType));
      // A change to the filter applies to the next message.
      await h.call({ method: 'PATCH', url: `${V1}/app/${app}/endpoint/${big}`, payload: { filter: null } });
      assert.deepEqual(await fannedOut(h, app, { data: { amount: 5 } }), [all, big].sort());
    });
  });
});

test('the OpenAPI document describes filter on endpoint input, patch and output', async (t) => {
  const h = await harness();
  t.after(() => h.close());
  const document = json(await h.call({ url: `${V1}/openapi.json`, token: null }));
  for (const name of ['EndpointIn', 'EndpointUpdate', 'EndpointPatch', 'EndpointOut']) {
    const filter = JSON.stringify(document.components.schemas[name].properties.filter);
    assert.match(
      filter,
      /Hookyard addition: the endpoint hears a message only when this JSON filter matches/,
      name,
    );
  }
  assert.ok(document.components.schemas.EndpointOut.required.includes('filter'));
});
