import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type AddressGuard, createAddressGuard } from '../../src/delivery/address-guard.ts';
import type { BrokerMessage } from '../../src/delivery/brokers/broker-message.ts';
import type { PublishOutcome } from '../../src/delivery/brokers/publish-outcome.ts';
import { parseCidrList } from '../../src/domain/cidr.ts';
import { generateSecret } from '../../src/signing/keys.ts';
import { signatureHeader } from '../../src/signing/sign.ts';
import type { Pipeline } from './pipeline.ts';

/** The local brokers (services of this machine; .ci/run starts any that is down). */
export const BROKERS = {
  rabbitMq: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
  redis: 'redis://127.0.0.1:6379',
  mqtt: 'mqtt://127.0.0.1:1883',
  postgres: process.env['HOOKYARD_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
} as const;

/** A guard that lets loopback through, as HOOKYARD_ALLOWED_SUBNETS=127.0.0.0/8 would. */
export const loopbackGuard: AddressGuard = createAddressGuard(parseCidrList('127.0.0.0/8,::1/128') ?? []);
/** The production default: loopback is blocked. */
export const defaultGuard: AddressGuard = createAddressGuard([]);

export const fastBackoff = { initialMs: 50, maxMs: 200 };

/** A message signed like a webhook, with the secret to verify it. */
export function signedMessage(payload: unknown = { hello: 'world', n: Math.random() }): {
  message: BrokerMessage;
  secret: string;
  id: string;
} {
  const secret = generateSecret();
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify(payload);
  const signature = signatureHeader([{ key: secret, expiresAt: null }], id, timestamp, body, Date.now());
  return {
    secret,
    id,
    message: {
      msgId: id,
      body,
      eventType: 'invoice.paid',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      },
    },
  };
}

/** Checks the received body and headers as a consumer would: the signature verifies with the secret. */
export function assertVerifies(secret: string, body: string, headers: Record<string, string>): void {
  const verified = new Webhook(secret).verify(body, headers);
  assert.deepEqual(verified, JSON.parse(body));
  assert.equal(headers['webhook-event-type'], 'invoice.paid');
}

export function assertOutcome(outcome: PublishOutcome, kind: PublishOutcome['kind'], pattern?: RegExp) {
  assert.equal(outcome.kind, kind, JSON.stringify(outcome));
  if (pattern) {
    const text = outcome.kind === 'success' ? outcome.response : outcome.error;
    assert.match(text, pattern);
  }
}

/** Resolves once `check` holds (polled every 10 ms); fails after `limitMs` so a bug cannot hang the suite. */
export async function until(check: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP proxy to a local broker, so a test can cut every connection as a network failure would. */
export interface TcpProxy {
  readonly port: number;
  /** How many client connections it has accepted so far. */
  accepted(): number;
  /** Stops passing the broker's replies to the client (they are dropped), as a stalled link would. */
  holdReplies(): void;
  /**
   * Stalls one connection mid-conversation: from the first client chunk containing `text` on, that
   * connection's replies are dropped (the request itself still goes through). Resolves with the
   * local port of its upstream socket, which the server sees as the client's port.
   */
  holdRepliesAfter(text: string): Promise<number>;
  /** Destroys every open connection (both sides). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let holding = false;
  let trigger: { text: string; held: (port: number) => void } | undefined;
  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    let held = false;
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (trigger && chunk.includes(trigger.text)) {
        held = true;
        trigger.held(upstream.localPort ?? 0);
        trigger = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!holding && !held) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    holdReplies() {
      holding = true;
    },
    holdRepliesAfter(text) {
      return new Promise((held) => {
        trigger = { text, held };
      });
    },
    dropAll() {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that accepts TCP connections and never answers: a broker that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A local port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const uniqueName = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/**
 * A destination made through the API in a new application, with the `x-team: billing` header the
 * consumers in the broker tests check, and its secret to verify signatures with.
 */
export async function createDestination(p: Pipeline, appName: string, destination: object) {
  const app = (await p.call({ method: 'POST', url: '/api/v1/app', payload: { name: appName } })).json();
  const created = await p.call({
    method: 'POST',
    url: `/api/v1/app/${app.id}/destination`,
    payload: destination,
  });
  assert.equal(created.statusCode, 201, created.body);
  return destinationWithHeader(p, app.id as string, created.json().id as string);
}

/** An existing destination's base path and secret, after giving it the `x-team: billing` header. */
export async function destinationWithHeader(p: Pipeline, appId: string, id: string) {
  const base = `/api/v1/app/${appId}/destination/${id}`;
  const secret: string = (await p.call({ method: 'GET', url: `${base}/secret` })).json().key;
  await p.call({ method: 'PATCH', url: `${base}/headers`, payload: { headers: { 'x-team': 'billing' } } });
  return { appId, id, base, secret };
}
