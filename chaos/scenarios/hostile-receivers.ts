import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { type AttemptOut, hookyardWithApp, type Outcome, rssMb, type Scenario, waitUntil } from '../lib.ts';

const TIMEOUT_MS = 2_000;
const MESSAGES = 20;

/** A raw TCP receiver: `onRequest` gets each connection once the request head (and body) arrived. */
async function rawReceiver(
  onRequest: (socket: Socket) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let seen = '';
    let answered = false;
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      if (!answered && seen.includes('\r\n\r\n')) {
        answered = true;
        onRequest(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The endpoint's attempts once there are `count` of them, or what there is after `timeoutMs`. */
async function attemptsOnceThere(
  read: () => Promise<AttemptOut[]>,
  count: number,
  timeoutMs: number,
): Promise<AttemptOut[]> {
  let attempts: AttemptOut[] = [];
  await waitUntil(async () => {
    attempts = await read();
    return attempts.length >= count;
  }, timeoutMs);
  return attempts;
}

/** Writes `piece` every `everyMs` until the socket closes. */
function trickle(socket: Socket, piece: string | Buffer, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(piece);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
}

/**
 * One hostile receiver next to a well-behaved control endpoint on the same application: every message
 * goes to both. Holds when every attempt at the hostile one is recorded as `expect` says, none took
 * much longer than the timeout, and the control endpoint got every message meanwhile.
 */
function receiverScenario(
  name: string,
  promise: string,
  behave: (socket: Socket) => void,
  expect: (attempt: AttemptOut) => boolean,
): Scenario {
  return {
    name: `receiver: ${name}`,
    promise,
    timeoutMs: 60_000,
    async run(): Promise<Outcome> {
      const hostile = await rawReceiver(behave);
      const control = await startReceiver();
      const h = await hookyardWithApp({
        HOOKYARD_DELIVERY_TIMEOUT: `${TIMEOUT_MS}ms`,
        HOOKYARD_RETRY_SCHEDULE: '1h',
        HOOKYARD_LEASE_DURATION: '30s',
      });
      try {
        const hostileId = await h.endpoint(hostile.url);
        await h.endpoint(`${control.url}/hook`);
        const started = Date.now();
        for (let i = 0; i < MESSAGES; i++) await h.send({ i });
        const controlDone = await waitUntil(() => control.counts.size >= MESSAGES, 20_000);
        const controlMs = Date.now() - started;
        const attempts = await attemptsOnceThere(() => h.attempts(hostileId), MESSAGES, 30_000);
        const good = attempts.filter(expect).length;
        const slowest = Math.max(0, ...attempts.map((a) => a.responseDurationMs));
        const healthy = (await fetch(`${h.hookyard.url}/api/v1/health`)).status === 200;
        const rss = rssMb(h.hookyard.child.pid ?? 0);
        const sample = attempts[0]
          ? `${attempts[0].responseStatusCode} "${attempts[0].response.slice(0, 60)}"`
          : 'none';
        return {
          held:
            controlDone &&
            attempts.length >= MESSAGES &&
            good === attempts.length &&
            slowest <= TIMEOUT_MS + 1_000 &&
            healthy,
          figures: `${attempts.length}/${MESSAGES} attempts recorded as expected: ${good}; slowest ${slowest} ms (timeout ${TIMEOUT_MS}); control endpoint ${control.counts.size}/${MESSAGES} in ${controlMs} ms; RSS ${rss.toFixed(0)} MB; e.g. ${sample}`,
        };
      } finally {
        await h.hookyard.kill();
        await hostile.close();
        await control.close();
      }
    },
  };
}

const failedByTimeout = (a: AttemptOut) => a.responseStatusCode === 0 && /timed out/.test(a.response);

const slowBurst: Scenario = {
  name: 'receiver: slow but within the timeout, under a burst',
  promise:
    'A receiver that answers within HOOKYARD_DELIVERY_TIMEOUT is never timed out because requests waited for a pooled connection; a request that found no free connection within the timeout is recorded as not sent (EPOOLWAIT) and retried; nothing is sent twice.',
  timeoutMs: 120_000,
  async run() {
    let inFlight = 0;
    let most = 0;
    const counts = new Map<string, number>();
    const server = createHttpServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const id = String(req.headers['webhook-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      req.resume();
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 1_500);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const h = await hookyardWithApp({
      HOOKYARD_DELIVERY_TIMEOUT: '2s',
      HOOKYARD_CONNECTIONS_PER_ORIGIN: '64',
      HOOKYARD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s',
      HOOKYARD_LEASE_DURATION: '60s',
    });
    try {
      const endpointId = await h.endpoint(`http://127.0.0.1:${port}/hook`);
      const total = 100;
      await Promise.all(Array.from({ length: total }, (_, i) => h.send({ i })));
      await waitUntil(() => counts.size >= total, 60_000);
      const attempts = await attemptsOnceThere(() => h.attempts(endpointId), total, 20_000);
      const timedOut = attempts.filter((a) => /timed out/.test(a.response)).length;
      const notSent = attempts.filter((a) => /^not sent/.test(a.response)).length;
      const duplicates = [...counts.values()].filter((n) => n > 1).length;
      return {
        held: counts.size === total && timedOut === 0 && duplicates === 0,
        figures: `receiver answers in 1.5 s, timeout 2 s: ${counts.size}/${total} delivered, ${attempts.length} attempts, ${timedOut} timed out, ${notSent} not sent for want of a connection, ${duplicates} sent twice; receiver asked at most ${most} at once (HOOKYARD_CONNECTIONS_PER_ORIGIN=64)`,
      };
    } finally {
      await h.hookyard.kill();
      server.closeAllConnections();
      server.close();
    }
  },
};

async function redirectScenario(): Promise<Outcome> {
  const target = await startReceiver();
  try {
    const scenario = receiverScenario(
      'redirects',
      '',
      (socket) =>
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${target.url}/elsewhere\r\nContent-Length: 0\r\n\r\n`),
      (a) => a.responseStatusCode === 302,
    );
    const outcome = await scenario.run();
    return {
      held: outcome.held && target.deliveries.length === 0,
      figures: `${outcome.figures}; redirect target hit ${target.deliveries.length} times`,
    };
  } finally {
    await target.close();
  }
}

export const hostileReceivers: Scenario[] = [
  receiverScenario(
    'never answers',
    'An attempt ends at HOOKYARD_DELIVERY_TIMEOUT, recorded as timed out; other endpoints are not slowed.',
    () => {},
    failedByTimeout,
  ),
  receiverScenario(
    'trickles headers',
    'A receiver sending its headers a byte at a time is cut off at the timeout.',
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\n');
      trickle(socket, 'X', 100);
    },
    failedByTimeout,
  ),
  receiverScenario(
    'trickles the body',
    'A body that never finishes is cut off at the timeout and recorded as a failure.',
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n');
      trickle(socket, '.', 100);
    },
    failedByTimeout,
  ),
  receiverScenario(
    'endless body',
    'An endless response body is read up to HOOKYARD_RESPONSE_BODY_LIMIT (plus a bounded drain), then the connection is closed; the status counts.',
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = () => {
        while (
          !socket.destroyed &&
          socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`)
        ) {}
      };
      socket.on('drain', pump);
      pump();
    },
    (a) => a.responseStatusCode === 200 && a.response.length <= 4096,
  ),
  receiverScenario(
    'header bomb (1 MB of headers)',
    'An oversized response head fails the attempt; memory stays bounded.',
    (socket) => {
      socket.write('HTTP/1.1 200 OK\r\n');
      for (let i = 0; i < 1024; i++) socket.write(`X-Bomb-${i}: ${'b'.repeat(1000)}\r\n`);
      socket.end('\r\n');
    },
    (a) => a.responseStatusCode === 0,
  ),
  receiverScenario(
    'resets the connection',
    'A reset is a failed attempt (retried by the schedule), never a crash.',
    (socket) => socket.resetAndDestroy(),
    (a) => a.responseStatusCode === 0 && /reset|closed/.test(a.response),
  ),
  {
    name: 'receiver: redirects',
    promise: 'A 3xx is a failed attempt; Hookyard never follows a redirect (it could point anywhere).',
    timeoutMs: 60_000,
    run: redirectScenario,
  },
  slowBurst,
];
