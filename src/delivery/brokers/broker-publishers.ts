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
  close(): Promise<void>;
}

export interface BrokerPublishers {
  publish(
    destination: BrokerDestination,
    message: BrokerMessage,
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

  async function close(): Promise<void> {
    const publishers = await Promise.all(loaded.values());
    loaded.clear();
    await Promise.all(publishers.map((publisher) => publisher.close()));
  }

  return { publish, close };
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
