import { connect, type Socket } from 'node:net';
import { hookyardWithApp, type Outcome, type Scenario, sleep, TEST_ADMIN_TOKEN } from '../lib.ts';

/** One raw HTTP/1.1 request; resolves to the status line's code (0 if the connection failed). */
function rawRequest(
  port: number,
  head: string,
  body: Buffer | string = '',
): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let seen = '';
    const done = (status: number) => {
      socket.destroy();
      resolve({ status, ms: Math.round(performance.now() - started) });
    };
    socket.on('error', () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(seen)?.[1] ?? 0)));
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(seen);
      if (match) done(Number(match[1]));
    });
    socket.on('close', () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(seen)?.[1] ?? 0)));
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
}

function post(
  port: number,
  path: string,
  body: Buffer | string,
  headers = '',
): Promise<{ status: number; ms: number }> {
  const length = Buffer.byteLength(body);
  return rawRequest(
    port,
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${headers}Connection: close\r\n\r\n`,
    body,
  );
}

function get(port: number, path: string, headers = ''): Promise<{ status: number; ms: number }> {
  return rawRequest(
    port,
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\n${headers}Connection: close\r\n\r\n`,
  );
}

function clientScenario(
  name: string,
  promise: string,
  body: (port: number, appId: string) => Promise<Outcome>,
): Scenario {
  return {
    name: `client: ${name}`,
    promise,
    timeoutMs: 90_000,
    async run() {
      const h = await hookyardWithApp({ HOOKYARD_MAX_PAYLOAD_BYTES: '1048576' });
      try {
        const port = Number(new URL(h.hookyard.url).port);
        const outcome = await body(port, h.appId);
        const healthy = (await fetch(`${h.hookyard.url}/api/v1/health`)).status === 200;
        return { held: outcome.held && healthy, figures: outcome.figures };
      } finally {
        await h.hookyard.kill();
      }
    },
  };
}

const fiveHundred = (status: number) => status >= 500 || status === 0;

export const hostileClients: Scenario[] = [
  clientScenario(
    'slowloris (200 connections trickling headers)',
    'Slow clients hold sockets, not the server: other requests are answered meanwhile.',
    async (port, appId) => {
      const sockets: Socket[] = [];
      for (let i = 0; i < 200; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write(`POST /api/v1/app/${appId}/msg HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
        sockets.push(socket);
      }
      const timer = setInterval(() => {
        for (const socket of sockets) if (!socket.destroyed) socket.write('X');
      }, 1_000);
      try {
        await sleep(2_000);
        const started = performance.now();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            post(port, `/api/v1/app/${appId}/msg`, JSON.stringify({ eventType: 'a.b', payload: { i } })),
          ),
        );
        const ms = Math.round(performance.now() - started);
        const ok = results.filter((r) => r.status === 202).length;
        return {
          held: ok === 50,
          figures: `with 200 slow connections open, 50 concurrent ingests: ${ok}×202 in ${ms} ms`,
        };
      } finally {
        clearInterval(timer);
        for (const socket of sockets) socket.destroy();
      }
    },
  ),
  clientScenario(
    'huge bodies (50 MB)',
    'A body over the limit is refused with 413 as it streams in, not buffered.',
    async (port, appId) => {
      const body = Buffer.alloc(50 * 1024 * 1024, 'a');
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await post(port, `/api/v1/app/${appId}/msg`, body));
      return {
        held: results.every((r) => r.status === 413),
        figures: results.map((r) => `${r.status} in ${r.ms} ms`).join(', '),
      };
    },
  ),
  clientScenario(
    'deep nesting (129 to 500,000 levels)',
    'Nesting past 128 levels is 422 json_too_deep with the path; never a 500.',
    async (port, appId) => {
      const figures: string[] = [];
      let held = true;
      for (const levels of [129, 5_000, 100_000, 500_000]) {
        const body = `{"eventType":"a.b","payload":${'['.repeat(levels)}${']'.repeat(levels)}}`;
        const r = await post(port, `/api/v1/app/${appId}/msg`, body);
        held &&= r.status === 422;
        figures.push(`${levels}: ${r.status} in ${r.ms} ms`);
      }
      return { held, figures: figures.join(', ') };
    },
  ),
  clientScenario(
    'invalid UTF-8',
    'A body with bytes that are not UTF-8 is 400 invalid_json naming the offset; nothing is stored rewritten.',
    async (port, appId) => {
      const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc0, 0xae]);
      const bodies = [
        Buffer.concat([Buffer.from('{"eventType":"a.b","payload":{"s":"'), bad, Buffer.from('"}}')]),
        Buffer.concat([Buffer.from('{"name":"'), bad, Buffer.from('"}')]),
      ];
      const results = [
        await post(port, `/api/v1/app/${appId}/msg`, bodies[0] ?? ''),
        await post(port, '/api/v1/app', bodies[1] ?? ''),
      ];
      return {
        held: results.every((r) => r.status === 400),
        figures: results.map((r) => String(r.status)).join(', '),
      };
    },
  ),
  clientScenario(
    'header and query floods',
    'Oversized heads get 431; 10,000 query parameters get an answer, never a 5xx.',
    async (port, appId) => {
      const bigHeader = await get(port, '/api/v1/app', `X-Flood: ${'h'.repeat(64 * 1024)}\r\n`);
      const manyHeaders = await get(
        port,
        '/api/v1/app',
        Array.from({ length: 2_000 }, (_, i) => `X-H${i}: v\r\n`).join(''),
      );
      const query = Array.from({ length: 10_000 }, (_, i) => `p${i}=${i}`).join('&');
      const flood = await get(port, `/api/v1/app/${appId}/msg?${query}`);
      const results = [bigHeader, manyHeaders, flood];
      return {
        held: bigHeader.status === 431 && !results.some((r) => fiveHundred(r.status)),
        figures: `64 KB header: ${bigHeader.status}; 2,000 headers: ${manyHeaders.status}; 10,000 query parameters: ${flood.status} in ${flood.ms} ms`,
      };
    },
  ),
  clientScenario(
    'path traversal spellings',
    'No spelling of ../ reaches a file or a 5xx: 400, 404 or 422.',
    async (port) => {
      const spellings = [
        '/../../../etc/passwd',
        '/api/v1/../../etc/passwd',
        '/api/v1/%2e%2e/%2e%2e/etc/passwd',
        '/api/v1/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
        '/api/v1/..%2f..%2fetc%2fpasswd',
        '/api/v1/%252e%252e%252fetc%252fpasswd',
        '/api/v1/..%5c..%5cetc%5cpasswd',
        '/api/v1/%c0%ae%c0%ae/etc/passwd',
        '/api/v1/app/..%00/etc/passwd',
        '/api/v1/app/%2e%2e%2f%2e%2e%2fetc%2fpasswd/msg',
        '//etc/passwd',
        '/api/v1/app/....//....//etc/passwd',
      ];
      const results = await Promise.all(spellings.map((path) => get(port, path)));
      const statuses = [...new Set(results.map((r) => r.status))].sort();
      return {
        held: results.every((r) => [400, 401, 404, 422].includes(r.status)),
        figures: `${spellings.length} spellings, answered ${statuses.join('/')}`,
      };
    },
  ),
];
