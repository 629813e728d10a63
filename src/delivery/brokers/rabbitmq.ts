import amqp, { type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import type { AddressGuard } from '../address-guard.ts';
import { assertConfig, checkRabbitMqConfig, parseBrokerUrl, type RabbitMqConfig } from './broker-config.ts';
import { type BrokerMessage, brokerHeaders, signedTimestamp } from './broker-message.ts';
import {
  abortable,
  type BackoffOptions,
  createConnectionPool,
  failureOutcome,
  resolveGuarded,
  successOutcome,
  withAddress,
  withTimeout,
} from './connection-pool.ts';
import type { PublishOutcome } from './publish-outcome.ts';

interface AmqpConnection {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
  /** Publishes the broker returned as unroutable, by exchange, routing key and message id. */
  readonly returned: Set<string>;
  /** Why the channel or connection closed, for the publishes it takes down with it. */
  lastError: string | undefined;
}

export interface RabbitMqPublisher {
  /** Resolves when the broker confirmed (success) or the attempt failed; `signal` stops the wait. */
  publish(
    config: RabbitMqConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  /** How many distinct URIs hold an open connection. */
  connections(): number;
  close(): Promise<void>;
}

const returnKey = (exchange: string, routingKey: string, id: string) =>
  `${exchange}\u0000${routingKey}\u0000${id}`;

/**
 * Publishes to RabbitMQ over a confirm channel, persistent and `mandatory`: a publish succeeds
 * only when the broker acks it, and a message no queue is bound to receive (the broker returns it
 * before the ack) is a retryable failure instead of a silent drop. The webhook headers travel as
 * AMQP headers; `messageId`, `timestamp` and `type` carry the id, time and event type as well.
 */
export function createRabbitMqPublisher(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): RabbitMqPublisher {
  const pool = createConnectionPool<AmqpConnection>(async (connection) => {
    await connection.model.close();
  }, options.backoff);

  async function open(key: string, url: URL): Promise<AmqpConnection> {
    const address = await resolveGuarded(url.hostname, options.guard);
    const servername = url.hostname.replace(/^\[|\]$/g, '');
    const model = await amqp.connect(
      withAddress(url, address).href,
      url.protocol === 'amqps:' ? { servername } : {},
    );
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
    } catch (error) {
      await model.close().catch(() => {});
      throw error;
    }
    const connection: AmqpConnection = { model, channel, returned: new Set(), lastError: undefined };
    const lost = (reason: string) => {
      connection.lastError ??= reason;
      pool.discard(key, connection);
    };
    model.on('error', (error: Error) => lost(error.message));
    model.on('close', () => lost('the connection to RabbitMQ closed'));
    channel.on('error', (error: Error) => lost(error.message));
    channel.on('close', () => lost('the channel closed'));
    channel.on('return', (returned: Message) => {
      const { exchange, routingKey } = returned.fields;
      connection.returned.add(returnKey(exchange, routingKey, String(returned.properties.messageId)));
    });
    return connection;
  }

  async function attempt(
    config: RabbitMqConfig,
    message: BrokerMessage,
    timeoutMs: number,
    started: number,
  ): Promise<PublishOutcome> {
    try {
      assertConfig(checkRabbitMqConfig(config));
      const url = parseBrokerUrl(config.uri, 'uri', ['amqp', 'amqps']);
      const connection = await pool.acquire(config.uri, () => open(config.uri, url), timeoutMs);
      const exchange = config.exchange ?? '';
      const id = message.msgId;
      const key = returnKey(exchange, config.routingKey, id);
      const confirmed = new Promise<void>((resolve, reject) => {
        connection.channel.publish(
          exchange,
          config.routingKey,
          Buffer.from(message.body),
          {
            persistent: true,
            mandatory: true,
            contentType: 'application/json',
            messageId: id,
            timestamp: signedTimestamp(message),
            type: message.eventType,
            headers: brokerHeaders(message),
          },
          (error: unknown) => {
            if (error)
              reject(new Error(connection.lastError ?? 'RabbitMQ did not confirm the message (nack)'));
            else resolve();
          },
        );
      });
      await withTimeout(confirmed, timeoutMs, 'waiting for the RabbitMQ confirmation');
      if (connection.returned.delete(key)) {
        return failureOutcome(
          new Error(`RabbitMQ returned the message: no queue is bound to routing key '${config.routingKey}'`),
          started,
        );
      }
      const where = exchange === '' ? 'the default exchange' : `exchange '${exchange}'`;
      return successOutcome(`confirmed by RabbitMQ (${where}, routing key '${config.routingKey}')`, started);
    } catch (error) {
      return failureOutcome(error, started, isPermanent);
    }
  }

  function publish(config: RabbitMqConfig, message: BrokerMessage, timeoutMs: number, signal?: AbortSignal) {
    const started = performance.now();
    return abortable(attempt(config, message, timeoutMs, started), signal, started);
  }

  return { publish, connections: pool.size, close: pool.close };
}

/** A frame over the negotiated maximum can never be sent as it is. */
function isPermanent(error: Error): boolean {
  return /frame size|FRAME_ERROR|message size .* larger than/i.test(error.message);
}
