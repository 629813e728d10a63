import { connect, type JetStreamClient, type NatsConnection, headers as natsHeaders } from 'nats';
import type { AddressGuard } from '../address-guard.ts';
import {
  assertConfig,
  checkNatsJetStreamConfig,
  type NatsJetStreamConfig,
  parseBrokerUrl,
} from './broker-config.ts';
import { type BrokerMessage, brokerHeaders } from './broker-message.ts';
import {
  abortable,
  type BackoffOptions,
  createConnectionPool,
  failureOutcome,
  resolveGuarded,
  successOutcome,
  withTimeout,
} from './connection-pool.ts';
import type { PublishOutcome } from './publish-outcome.ts';

interface NatsSession {
  readonly connection: NatsConnection;
  readonly jetstream: JetStreamClient;
}

export interface NatsJetStreamPublisher {
  publish(config: NatsJetStreamConfig, message: BrokerMessage, timeoutMs: number): Promise<PublishOutcome>;
  connections(): number;
  close(): Promise<void>;
}

/**
 * Publishes with JetStream's publish acknowledgement: a publish succeeds only when a stream has
 * stored the message. `Nats-Msg-Id` is the webhook id and subject, so a redelivery within the
 * stream's duplicate window is stored once (the ack says `duplicate`). The webhook headers travel
 * as NATS headers.
 */
export function createNatsJetStreamPublisher(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): NatsJetStreamPublisher {
  const pool = createConnectionPool<NatsSession>(async (session) => {
    await session.connection.close();
  }, options.backoff);

  async function open(key: string, url: URL, timeoutMs: number): Promise<NatsSession> {
    const address = await resolveGuarded(url.hostname, options.guard);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    const connection = await connect({
      servers: `${address.includes(':') ? `[${address}]` : address}:${url.port || '4222'}`,
      reconnect: false,
      ignoreClusterUpdates: true,
      timeout: timeoutMs,
      name: 'hookyard',
      ...(user && pass ? { user, pass } : user ? { token: user } : {}),
    });
    const session: NatsSession = { connection, jetstream: connection.jetstream({ timeout: timeoutMs }) };
    connection.closed().then(
      () => pool.discard(key, session),
      () => pool.discard(key, session),
    );
    return session;
  }

  async function attempt(
    config: NatsJetStreamConfig,
    message: BrokerMessage,
    timeoutMs: number,
    started: number,
  ): Promise<PublishOutcome> {
    try {
      assertConfig(checkNatsJetStreamConfig(config));
      const url = parseBrokerUrl(config.url, 'url', ['nats']);
      const session = await pool.acquire(config.url, () => open(config.url, url, timeoutMs), timeoutMs);
      const headers = natsHeaders();
      for (const [name, value] of Object.entries(brokerHeaders(message))) headers.set(name, value);
      headers.set('content-type', 'application/json');
      const ack = await withTimeout(
        session.jetstream.publish(config.subject, Buffer.from(message.body), {
          headers,
          msgID: `${message.msgId}:${config.subject}`,
          timeout: timeoutMs,
        }),
        timeoutMs + 100,
        'waiting for the JetStream acknowledgement',
      );
      return successOutcome(
        `stored by JetStream (stream ${ack.stream}, sequence ${ack.seq}${ack.duplicate ? ', duplicate' : ''})`,
        started,
      );
    } catch (error) {
      return failureOutcome(describeNats(error), started, isPermanent);
    }
  }

  function publish(
    config: NatsJetStreamConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    const started = performance.now();
    return abortable(attempt(config, message, timeoutMs, started), signal, started);
  }

  return { publish, connections: pool.size, close: pool.close };
}

/** NATS answers "503" when no stream captures the subject: say that in words. */
function describeNats(thrown: unknown): unknown {
  if (thrown instanceof Error && (thrown as { code?: unknown }).code === '503') {
    return new Error(`no JetStream stream captures the subject (NATS 503 no responders)`, { cause: thrown });
  }
  return thrown;
}

function isPermanent(error: Error): boolean {
  return (error as { code?: unknown }).code === 'MAX_PAYLOAD_EXCEEDED';
}
