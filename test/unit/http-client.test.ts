import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { configWith } from '../../src/config/load.ts';
import { createHttpClient, type HttpClient, utf8Prefix } from '../../src/delivery/http-client.ts';

const logger = pino({ level: 'silent' });

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(handler: Handler) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const config = configWith({ allowedSubnets: '127.0.0.0/8', responseBodyLimit: '16', deliveryTimeout: '1s' });

describe('http client', () => {
  let client: HttpClient;
  before(() => {
    client = createHttpClient(config, logger);
  });
  after(() => client.close());

  it('posts the body and headers and records the response', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const server = await serve((req, res, body) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(201, { 'retry-after': '7' }).end('created');
    });
    try {
      const result = await client.send({
        url: `${server.url}/hook?x=1`,
        headers: { 'content-type': 'application/json', 'x-custom': 'yes' },
        body: '{"a":1}',
        timeoutMs: 1000,
      });
      assert.equal(result.kind, 'response');
      if (result.kind !== 'response') return;
      assert.equal(result.status, 201);
      assert.equal(result.body, 'created');
      assert.equal(result.retryAfter, '7');
      assert.ok(result.durationMs >= 0);
      assert.equal(seen.method, 'POST');
      assert.equal(seen.body, '{"a":1}');
      assert.equal(seen.headers?.['x-custom'], 'yes');
    } finally {
      await server.close();
    }
  });

  it('cuts the response body to the limit without splitting a character', async () => {
    const server = await serve((_req, res) => res.end(`${'é'.repeat(8)}${'x'.repeat(500_000)}`));
    try {
      const result = await client.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 });
      assert.equal(result.kind === 'response' && result.body, 'é'.repeat(8));
      const again = await client.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 });
      assert.equal(again.kind, 'response');
    } finally {
      await server.close();
    }
  });

  it('does not follow redirects', async () => {
    let hits = 0;
    const server = await serve((req, res) => {
      hits++;
      if (req.url === '/start') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.end('followed');
    });
    try {
      const result = await client.send({
        url: `${server.url}/start`,
        headers: {},
        body: '{}',
        timeoutMs: 1000,
      });
      assert.equal(result.kind === 'response' && result.status, 302);
      assert.equal(hits, 1);
    } finally {
      await server.close();
    }
  });

  it('times out a receiver that does not answer', async () => {
    const server = await serve(() => {});
    try {
      const result = await client.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 200 });
      assert.equal(result.kind, 'error');
      if (result.kind !== 'error') return;
      assert.equal(result.errno, 'ETIMEDOUT');
      assert.equal(result.reason, 'timed out after 200 ms');
      assert.ok(result.durationMs >= 150 && result.durationMs < 1000, String(result.durationMs));
    } finally {
      await server.close();
    }
  });

  it('times out a body that trickles forever', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(timer));
    });
    try {
      const result = await client.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 200 });
      assert.equal(result.kind === 'error' && result.errno, 'ETIMEDOUT');
    } finally {
      await server.close();
    }
  });

  it('reports a refused connection', async () => {
    const server = await serve(() => {});
    await server.close();
    const result = await client.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 });
    assert.equal(result.kind, 'error');
    if (result.kind !== 'error') return;
    assert.equal(result.errno, 'ECONNREFUSED');
    assert.match(result.reason, /^connection refused \(ECONNREFUSED\)/);
  });

  it('refuses blocked addresses at connect time, by literal and by name', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const guarded = createHttpClient(configWith({ deliveryTimeout: '1s' }), logger);
    try {
      for (const url of [
        server.url,
        `http://localhost:${server.port}/`,
        `http://[::ffff:127.0.0.1]:${server.port}/`,
      ]) {
        const result = await guarded.send({ url, headers: {}, body: '{}', timeoutMs: 1000 });
        assert.equal(result.kind, 'error', url);
        if (result.kind !== 'error') continue;
        assert.equal(result.errno, 'EADDRBLOCKED', url);
        assert.match(
          result.reason,
          /is loopback; blocked by the address guard \(HOOKYARD_ALLOWED_SUBNETS opens exceptions\)/,
        );
      }
      const allowed = await client.send({
        url: `http://localhost:${server.port}/`,
        headers: {},
        body: '{}',
        timeoutMs: 1000,
      });
      assert.equal(allowed.kind === 'response' && allowed.status, 200);
    } finally {
      await guarded.close();
      await server.close();
    }
  });

  it('aborts on request', async () => {
    const server = await serve(() => {});
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const result = await client.send({
        url: server.url,
        headers: {},
        body: '{}',
        timeoutMs: 1000,
        signal: controller.signal,
      });
      assert.equal(result.kind === 'error' && result.errno, 'ABORTED');
    } finally {
      await server.close();
    }
  });

  it('one signal aborts every attempt in flight, and attempts that ended are not held by it', async () => {
    let answered = 0;
    const server = await serve((request, response) => {
      // The first request is answered; the rest hang until aborted.
      if (request.url === '/quick') {
        answered++;
        response.end('ok');
      }
    });
    try {
      const controller = new AbortController();
      const send = (path: string) =>
        client.send({
          url: `${server.url}/${path}`,
          headers: {},
          body: '{}',
          timeoutMs: 5000,
          signal: controller.signal,
        });
      const quick = await send('quick');
      assert.equal(quick.kind === 'response' && quick.status, 200);
      const hanging = [send('a'), send('b'), send('c')];
      setTimeout(() => controller.abort(), 50);
      for (const result of await Promise.all(hanging))
        assert.equal(result.kind === 'error' && result.errno, 'ABORTED');
      // Aborted already: an attempt made now is not sent at all.
      const late = await send('quick');
      assert.equal(late.kind === 'error' && late.errno, 'ABORTED');
      assert.equal(answered, 1);
    } finally {
      await server.close();
    }
  });
});

describe('http client: waiting for a connection is not the receiver time', () => {
  /** A receiver answering after `delayMs`, counting requests and the most it was asked at once. */
  async function slowReceiver(delayMs: number) {
    const seen = { requests: 0, inFlight: 0, maxInFlight: 0 };
    const server = await serve((_req, res) => {
      seen.requests++;
      seen.inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      setTimeout(() => {
        seen.inFlight--;
        res.end('ok');
      }, delayMs);
    });
    return { ...server, seen };
  }

  it('a request that waited for a pooled connection still gets the whole timeout at the receiver', async () => {
    // One connection, a receiver taking 600 ms, a 1 s timeout: the second request waits ~600 ms for the
    // connection, then the receiver answers within its 1 s. Timing it from send() would make it ~1.2 s.
    const single = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.0/8', connectionsPerOrigin: '1', deliveryTimeout: '1s' }),
      logger,
    );
    const server = await slowReceiver(600);
    try {
      const results = await Promise.all(
        [1, 2].map(() => single.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 })),
      );
      for (const result of results) assert.equal(result.kind, 'response', JSON.stringify(result));
      assert.equal(server.seen.requests, 2);
      assert.equal(server.seen.maxInFlight, 1);
      const waited = results.find((result) => result.waitMs > 0);
      assert.ok(waited, 'one request waited for the connection');
    } finally {
      await single.close();
      await server.close();
    }
  });

  it('a request that never got a connection is reported as such and was never sent', async () => {
    const single = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.0/8', connectionsPerOrigin: '1', deliveryTimeout: '1s' }),
      logger,
    );
    const server = await slowReceiver(400);
    try {
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6].map(() =>
          single.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 }),
        ),
      );
      const answered = results.filter((result) => result.kind === 'response');
      const notSent = results.filter((result) => result.kind === 'error' && result.errno === 'EPOOLWAIT');
      assert.equal(answered.length + notSent.length, results.length, JSON.stringify(results));
      assert.ok(notSent.length > 0, 'the last requests gave up waiting');
      // Exactly the answered requests reached the receiver, one at a time: nothing was sent twice.
      assert.equal(server.seen.requests, answered.length);
      assert.equal(server.seen.maxInFlight, 1);
      for (const result of notSent) {
        assert.equal(result.kind === 'error' && result.durationMs, 0);
        assert.match(
          result.kind === 'error' ? result.reason : '',
          /^not sent: no connection to http:\/\/127\.0\.0\.1:\d+ became free within 1000 ms/,
        );
      }
    } finally {
      await single.close();
      await server.close();
    }
  });

  it('a request aborted while waiting for a connection is never sent', async () => {
    const single = createHttpClient(
      configWith({ allowedSubnets: '127.0.0.0/8', connectionsPerOrigin: '1', deliveryTimeout: '1s' }),
      logger,
    );
    const server = await slowReceiver(300);
    try {
      const controller = new AbortController();
      const first = single.send({ url: server.url, headers: {}, body: '{}', timeoutMs: 1000 });
      const second = single.send({
        url: server.url,
        headers: {},
        body: '{}',
        timeoutMs: 1000,
        signal: controller.signal,
      });
      controller.abort();
      const aborted = await second;
      assert.equal(aborted.kind === 'error' && aborted.errno, 'ABORTED');
      assert.equal((await first).kind, 'response');
      assert.equal(server.seen.requests, 1);
    } finally {
      await single.close();
      await server.close();
    }
  });
});

describe('utf8Prefix', () => {
  it('drops only an incomplete trailing character', () => {
    const euro = Buffer.from('a€', 'utf8');
    assert.equal(utf8Prefix(euro), 'a€');
    assert.equal(utf8Prefix(euro.subarray(0, 3)), 'a');
    assert.equal(utf8Prefix(euro.subarray(0, 2)), 'a');
    const emoji = Buffer.from('😀', 'utf8');
    assert.equal(utf8Prefix(emoji.subarray(0, 3)), '');
    assert.equal(utf8Prefix(Buffer.alloc(0)), '');
  });
});
