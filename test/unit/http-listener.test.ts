import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { openHttpListener } from '../../src/lifecycle/http-listener.ts';

test('the listener switches handlers for new requests and waits for the ones in progress', async () => {
  let release: (() => void) | undefined;
  const listener = await openHttpListener({
    host: '127.0.0.1',
    port: 0,
    handler: (_request, response) => {
      release = () => response.end('first');
    },
  });
  try {
    assert.equal(await listener.idle(1), true, 'idle with nothing in progress');
    const held = fetch(listener.url).then((res) => res.text());
    while (!release) await tick();
    listener.use((_request, response) => response.end('second'));
    assert.equal(await (await fetch(listener.url)).text(), 'second', 'new requests reach the new handler');

    let drained: boolean | undefined;
    const waiting = listener.idle(60_000).then((result) => {
      drained = result;
    });
    assert.equal(await listener.idle(1), false, 'gives up after its timeout while a request is held');
    assert.equal(drained, undefined, 'still waiting for the held request');
    release();
    assert.equal(await held, 'first', 'the request in progress finished on the handler it started on');
    await waiting;
    assert.equal(drained, true);
  } finally {
    await listener.close();
  }
});
