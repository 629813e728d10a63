import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { exceedsDepth, invalidUtf8Offset, MAX_JSON_DEPTH, pathPastDepth } from '../../src/api/json-body.ts';
import { type Harness, harness } from './harness.ts';

const V1 = '/api/v1';

function json(response: { body: string }): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

async function withHarness(t: { after(fn: () => Promise<void>): void }): Promise<Harness> {
  const h = await harness();
  t.after(() => h.close());
  const created = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'shop', uid: 'shop' } });
  assert.equal(created.statusCode, 201, created.body);
  return h;
}

/** `levels` nested objects (`{"a":{"a":...}}`) or arrays, the outermost being level 1. */
function nested(levels: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`
    : `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

describe('deeply nested JSON', () => {
  test('a payload nested past the limit is 422 json_too_deep with the path, in objects and arrays', async (t) => {
    const h = await withHarness(t);
    for (const kind of ['object', 'array'] as const) {
      for (const levels of [MAX_JSON_DEPTH, 5_000, 100_000]) {
        const body = `{"eventType":"a.b","payload":${nested(levels, kind)}}`;
        const response = await h.call({
          method: 'POST',
          url: `${V1}/app/shop/msg`,
          headers: { 'content-type': 'application/json' },
          payload: body,
        });
        assert.equal(response.statusCode, 422, `${kind} ${levels}: ${response.body.slice(0, 200)}`);
        const parsed = json(response) as { code: string; detail: { loc: (string | number)[] }[] };
        assert.equal(parsed.code, 'json_too_deep');
        const loc = parsed.detail[0]?.loc ?? [];
        // The body is level 1 and the payload level 2: the first value past the limit is the payload's
        // (MAX_JSON_DEPTH - 1)th descendant.
        assert.deepEqual(loc.slice(0, 2), ['body', 'payload']);
        assert.equal(loc.length, MAX_JSON_DEPTH + 1);
        assert.equal(loc.at(-1), kind === 'object' ? 'a' : 0);
      }
    }
  });

  test('a payload at the limit is accepted and stored as sent', async (t) => {
    const h = await withHarness(t);
    const payload = nested(MAX_JSON_DEPTH - 1, 'object');
    const response = await h.call({
      method: 'POST',
      url: `${V1}/app/shop/msg`,
      headers: { 'content-type': 'application/json' },
      payload: `{"eventType":"a.b","payload":${payload}}`,
    });
    assert.equal(response.statusCode, 202, response.body.slice(0, 200));
    const id = String(json(response)['id']);
    const stored = await h.storage.messages.get((await h.storage.applications.get('shop'))?.id ?? '', id);
    assert.equal(stored?.payload, payload);
  });

  test('an event type whose schemas nest past the limit is 422, on create and on update', async (t) => {
    const h = await withHarness(t);
    const schemas = `{"1":${nested(5_000, 'object')}}`;
    const create = await h.call({
      method: 'POST',
      url: `${V1}/event-type`,
      headers: { 'content-type': 'application/json' },
      payload: `{"name":"a.b","description":"x","schemas":${schemas}}`,
    });
    assert.equal(create.statusCode, 422, create.body.slice(0, 200));
    assert.equal(json(create)['code'], 'json_too_deep');
    const made = await h.call({
      method: 'POST',
      url: `${V1}/event-type`,
      payload: { name: 'a.b', description: 'x' },
    });
    assert.equal(made.statusCode, 201, made.body);
    const update = await h.call({
      method: 'PUT',
      url: `${V1}/event-type/a.b`,
      headers: { 'content-type': 'application/json' },
      payload: `{"description":"x","schemas":${schemas}}`,
    });
    assert.equal(update.statusCode, 422, update.body.slice(0, 200));
    assert.equal(json(update)['code'], 'json_too_deep');
  });

  test('brackets inside strings do not count, and neither walk needs recursion', () => {
    assert.equal(exceedsDepth(JSON.parse(`{"a":"${'['.repeat(500)}\\"{{{"}`), 3), false);
    assert.equal(exceedsDepth([[[[]]]], 3), true);
    assert.equal(exceedsDepth([[[]]], 3), false);
    assert.equal(exceedsDepth({ a: [1, { b: 'x' }] }, 3), false);
    assert.equal(exceedsDepth({ a: [1, { b: {} }] }, 3), true);
    assert.equal(exceedsDepth(JSON.parse(nested(100_000, 'array')), 99_999), true);
    assert.deepEqual(pathPastDepth({ x: 1, y: [{ z: [[]] }] }, 3), ['y', 0, 'z']);
    assert.equal(pathPastDepth({ y: [{ z: 1 }] }, 3), undefined);
    assert.equal(pathPastDepth(JSON.parse(nested(100_000, 'array')), 100_000), undefined);
    assert.equal(pathPastDepth(JSON.parse(nested(100_000, 'array')), 99_999)?.length, 99_999);
  });
});

describe('invalid UTF-8', () => {
  const HOSTILE = [0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc0, 0xae];

  test('invalid bytes in a payload string or an application name are 400 invalid_json naming the offset', async (t) => {
    const h = await withHarness(t);
    const cases = [
      { url: `${V1}/app/shop/msg`, prefix: '{"eventType":"a.b","payload":{"note":"', suffix: '"}}' },
      { url: `${V1}/app`, prefix: '{"name":"', suffix: '"}' },
      {
        url: `${V1}/app/shop/endpoint`,
        prefix: '{"url":"https://example.com/x","description":"',
        suffix: '"}',
      },
    ];
    for (const { url, prefix, suffix } of cases) {
      for (const bad of [HOSTILE, [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xae], [0xe2, 0x82]]) {
        const body = Buffer.concat([Buffer.from(`${prefix}ok é `), Buffer.from(bad), Buffer.from(suffix)]);
        const offset = Buffer.byteLength(`${prefix}ok é `);
        const response = await h.call({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          payload: body,
        });
        assert.equal(
          response.statusCode,
          400,
          `${url} ${Buffer.from(bad).toString('hex')}: ${response.body}`,
        );
        const parsed = json(response);
        assert.equal(parsed['code'], 'invalid_json');
        assert.match(String(parsed['detail']), new RegExp(`offset ${offset} `));
      }
    }
    // Nothing was stored with replacement characters.
    const messages = await h.call({ method: 'GET', url: `${V1}/app/shop/msg` });
    assert.deepEqual((json(messages) as { data: unknown[] }).data, []);
    const apps = await h.call({ method: 'GET', url: `${V1}/app` });
    assert.equal((json(apps) as { data: unknown[] }).data.length, 1);
  });

  test('well-formed UTF-8 (BMP, astral, escapes) still passes byte for byte', async (t) => {
    const h = await withHarness(t);
    const payload = '{"s":"é€𝄞 \\u00e9 日本"}';
    const response = await h.call({
      method: 'POST',
      url: `${V1}/app/shop/msg`,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from(`{"eventType":"a.b","payload":${payload}}`),
    });
    assert.equal(response.statusCode, 202, response.body);
    assert.equal((json(response)['payload'] as { s: string }).s, 'é€𝄞 é 日本');
  });

  test('the offset finder agrees with the fatal decoder and isUtf8', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const samples = [
      [0x41, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e],
      [0x41, 0xff],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe0, 0x80, 0x80],
      [0xf0, 0x9d, 0x84],
      [0xc2],
    ];
    for (const sample of samples) {
      const bytes = Uint8Array.from(sample);
      let valid = true;
      try {
        decoder.decode(bytes);
      } catch {
        valid = false;
      }
      assert.equal(invalidUtf8Offset(bytes) === undefined, valid, Buffer.from(bytes).toString('hex'));
      assert.equal(isUtf8(bytes), valid, Buffer.from(bytes).toString('hex'));
    }
    assert.equal(invalidUtf8Offset(Uint8Array.from([0x41, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80])), 4);
  });
});

describe('access before validation', () => {
  test("a portal token on another application's resources is 404 whatever the body", async (t) => {
    const h = await withHarness(t);
    const theirs = await h.call({
      method: 'POST',
      url: `${V1}/app`,
      payload: { name: 'theirs', uid: 'theirs' },
    });
    const theirsId = String(json(theirs)['id']);
    const endpoint = await h.call({
      method: 'POST',
      url: `${V1}/app/theirs/endpoint`,
      payload: { url: 'https://example.com/x', uid: 'main' },
    });
    assert.equal(endpoint.statusCode, 201, endpoint.body);
    const issued = await h.call({ method: 'POST', url: `${V1}/auth/app-portal-access/shop`, payload: {} });
    const { token } = json(issued) as { token: string };
    const tooLarge = `{"url":"https://example.com/x","description":"${'x'.repeat(2 << 20)}"}`;
    const malformed: {
      method: 'POST' | 'PUT' | 'PATCH' | 'GET';
      path: string;
      payload?: string;
      type?: string;
    }[] = [
      { method: 'POST', path: '/app/theirs/endpoint', payload: '{"url": 5}' },
      { method: 'POST', path: `/app/${theirsId}/endpoint`, payload: '{' },
      { method: 'PUT', path: '/app/theirs/endpoint/main', payload: '{}' },
      {
        method: 'PATCH',
        path: '/app/theirs/endpoint/main',
        payload: 'x=1',
        type: 'application/x-www-form-urlencoded',
      },
      {
        method: 'POST',
        path: '/app/theirs/endpoint',
        payload: `{"url":"https://example.com/x","d":${nested(300, 'array')}}`,
      },
      // Past the body limit: refused for access before the body is read, not with a 413.
      { method: 'POST', path: '/app/theirs/endpoint', payload: tooLarge },
      { method: 'POST', path: '/app/theirs/endpoint/main/secret/rotate', payload: '{"key": 7}' },
      { method: 'GET', path: '/app/theirs/msg?limit=-5' },
      { method: 'GET', path: '/app/does-not-exist/msg?limit=-5' },
    ];
    for (const { method, path, payload, type } of malformed) {
      const response = await h.call({
        method,
        url: `${V1}${path}`,
        token,
        headers: payload === undefined ? {} : { 'content-type': type ?? 'application/json' },
        ...(payload === undefined ? {} : { payload }),
      });
      assert.equal(response.statusCode, 404, `${method} ${path}: ${response.body}`);
      assert.equal(json(response)['code'], 'not_found');
    }
    // The admin, who may use the route, meets the body limit with that body.
    const admin = await h.call({
      method: 'POST',
      url: `${V1}/app/theirs/endpoint`,
      headers: { 'content-type': 'application/json' },
      payload: tooLarge,
    });
    assert.equal(json(admin)['code'], 'payload_too_large', admin.body);
    // The same malformed request on its own application is still answered by validation.
    const own = await h.call({
      method: 'POST',
      url: `${V1}/app/shop/endpoint`,
      token,
      headers: { 'content-type': 'application/json' },
      payload: '{"url": 5}',
    });
    assert.equal(own.statusCode, 422, own.body);
  });
});
