import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { verifyWebhook } from '../signing/verify.ts';

export interface ReceivedWebhook {
  readonly receivedAt: Date;
  readonly msgId: string | undefined;
  /** `type` or `eventType` of the JSON body, when it has one. */
  readonly eventType: string | undefined;
  readonly verified: boolean;
  /** Why verification failed. */
  readonly reason: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface ListenerOptions {
  readonly port: number;
  readonly host?: string;
  /** `whsec_…` and/or `whpk_…`; a delivery is accepted when any signature matches any of them. */
  readonly secrets: readonly string[];
  readonly onDelivery?: (delivery: ReceivedWebhook) => void;
}

export interface Listener {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Largest request body read; more is refused with 413 rather than buffered. */
const MAX_BODY = 64 * 1024 * 1024;

/**
 * A local receiver for trying Hookyard out: verifies each delivery's Standard Webhooks signature
 * (`webhook-*` or `svix-*` headers), answers 200 when it verifies and 401 otherwise, so the
 * sender's retry behaviour is visible too.
 */
export async function createListener(options: ListenerOptions): Promise<Listener> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('payload too large\n');
        return;
      }
      const raw = Buffer.concat(chunks);
      const verification = verifyWebhook({ headers: req.headers, body: raw, secrets: options.secrets });
      const body = raw.toString('utf8');
      const header = req.headers['webhook-id'] ?? req.headers['svix-id'];
      const delivery: ReceivedWebhook = {
        receivedAt: new Date(),
        msgId: Array.isArray(header) ? header[0] : header,
        eventType: eventTypeOf(body),
        verified: verification.ok,
        reason: verification.ok ? undefined : verification.reason,
        headers: req.headers,
        body,
      };
      options.onDelivery?.(delivery);
      if (verification.ok) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else res.writeHead(401, { 'content-type': 'text/plain' }).end(`${verification.reason}\n`);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function eventTypeOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const { type, eventType } = parsed as { type?: unknown; eventType?: unknown };
      if (typeof type === 'string') return type;
      if (typeof eventType === 'string') return eventType;
    }
  } catch {
    // Not JSON: shown without an event type.
  }
  return undefined;
}

/** One line per delivery: time, message id, event type, verdict, payload. */
export function formatDelivery(delivery: ReceivedWebhook): string {
  const time = delivery.receivedAt.toISOString().slice(11, 23);
  const verdict = delivery.verified ? '✓ verified' : `✗ rejected (${delivery.reason})`;
  const payload = delivery.body.replace(/\r?\n/g, ' ');
  return `${time}  ${delivery.msgId ?? '-'}  ${delivery.eventType ?? '-'}  ${verdict}  ${payload}`;
}

/**
 * `hookyard listen --port 8090 --secret whsec_… [--secret whpk_…] [--host 127.0.0.1]`.
 * Resolves when the receiver stops (SIGINT or SIGTERM).
 */
export async function runListen(
  args: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string', multiple: true },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535)
    throw new Error('--port must be an integer from 0 to 65535');
  const secrets = values.secret ?? [];
  if (secrets.length === 0)
    throw new Error('--secret is required (the endpoint secret whsec_… or public key whpk_…)');
  for (const secret of secrets) {
    if (!secret.startsWith('whsec_') && !secret.startsWith('whpk_')) {
      throw new Error('--secret must start with whsec_ (v1) or whpk_ (v1a public key)');
    }
  }

  const listener = await createListener({
    port,
    host: values.host,
    secrets,
    onDelivery: (delivery) => out(formatDelivery(delivery)),
  });
  out(`listening on ${listener.url}: deliveries are verified and printed; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void listener.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
