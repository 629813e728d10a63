import type { AddressGuard } from '../address-guard.ts';
import { BROKER_TYPES, type BrokerDestination, type BrokerType } from './broker-config.ts';
import type { BrokerMessage } from './broker-message.ts';
import type { BackoffOptions } from './connection-pool.ts';
import type { PublishOutcome } from './publish-outcome.ts';

interface Publisher<C> {
  publish(
    config: C,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  /** A batch in one go (PostgreSQL: one transaction); without it, the messages are published in turn. */
  publishEach?(
    config: C,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  close(): Promise<void>;
}

export interface BrokerPublishers {
  publish(
    destination: BrokerDestination,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  /**
   * An ordered destination's batch: every message published as its own, in order, each waiting for the
   * broker's confirmation before the next goes (so the broker holds them in that order), and success
   * only once all are confirmed; the first failure ends the batch (what went before it stays published:
   * the retry sends the batch again whole). `timeoutMs` bounds the whole batch.
   */
  publishEach(
    destination: BrokerDestination,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  close(): Promise<void>;
}

/**
 * One publisher per broker type, each created (and its client library loaded) the first time a
 * destination of that type publishes, so a deployment that uses none of them loads none.
 */
export function createBrokerPublishers(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): BrokerPublishers {
  const loaded = new Map<BrokerType, Promise<Publisher<never>>>();

  function load(type: BrokerType): Promise<Publisher<never>> {
    let publisher = loaded.get(type);
    if (!publisher) {
      publisher = create(type, options);
      loaded.set(type, publisher);
    }
    return publisher;
  }

  async function publish(
    destination: BrokerDestination,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    if (!BROKER_TYPES.includes(destination.type)) {
      return {
        kind: 'permanent',
        error: `unknown destination type ${String(destination.type)}`,
        durationMs: 0,
      } as const;
    }
    const publisher = (await load(destination.type)) as Publisher<BrokerDestination['config']>;
    return publisher.publish(destination.config, message, timeoutMs, signal);
  }

  async function publishEach(
    destination: BrokerDestination,
    messages: readonly BrokerMessage[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome> {
    if (!BROKER_TYPES.includes(destination.type))
      return publish(destination, messages[0]!, timeoutMs, signal);
    const publisher = (await load(destination.type)) as Publisher<BrokerDestination['config']>;
    if (publisher.publishEach) return publisher.publishEach(destination.config, messages, timeoutMs, signal);
    return publishInTurn(
      (message, left) => publisher.publish(destination.config, message, left, signal),
      messages,
      timeoutMs,
    );
  }

  async function close(): Promise<void> {
    const publishers = await Promise.all(loaded.values());
    loaded.clear();
    await Promise.all(publishers.map((publisher) => publisher.close()));
  }

  return { publish, publishEach, close };
}

async function create(
  type: BrokerType,
  options: { readonly guard: AddressGuard; readonly backoff?: BackoffOptions },
): Promise<Publisher<never>> {
  switch (type) {
    case 'rabbitMq':
      return (await import('./rabbitmq.ts')).createRabbitMqPublisher(options);
    case 'natsJetStream':
      return (await import('./nats-jetstream.ts')).createNatsJetStreamPublisher(options);
    case 'redisStream':
      return (await import('./redis-stream.ts')).createRedisStreamPublisher(options);
    case 'mqtt':
      return (await import('./mqtt.ts')).createMqttPublisher(options);
    case 'postgres':
      return (await import('./postgres-table.ts')).createPostgresTablePublisher(options);
  }
}

/**
 * The messages published one after another, each confirmed before the next goes, within one deadline
 * for them all. The outcome names how far the batch got and, on a failure, which message failed.
 */
export async function publishInTurn(
  publishOne: (message: BrokerMessage, timeoutMs: number) => Promise<PublishOutcome>,
  messages: readonly BrokerMessage[],
  timeoutMs: number,
): Promise<PublishOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let last = '';
  for (const [index, message] of messages.entries()) {
    const left = Math.max(1, Math.floor(timeoutMs - (performance.now() - started)));
    const outcome = await publishOne(message, left);
    const place = `message ${index + 1} of ${messages.length} (${message.msgId})`;
    if (outcome.kind === 'retryable')
      return {
        kind: 'retryable',
        error: `${place}: ${outcome.error}`,
        ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
        durationMs: elapsed(),
      };
    if (outcome.kind === 'permanent')
      return { kind: 'permanent', error: `${place}: ${outcome.error}`, durationMs: elapsed() };
    last = outcome.response;
  }
  const response =
    messages.length === 1 ? last : `${messages.length} messages, each confirmed; the last: ${last}`;
  return { kind: 'success', response, durationMs: elapsed() };
}
