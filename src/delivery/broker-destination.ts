import type { StoredDestination } from '../storage/contract.ts';
import type { AddressGuard } from './address-guard.ts';
import { BROKER_TYPES, type BrokerDestination, type BrokerType } from './brokers/broker-config.ts';
import { type BrokerPublishers, createBrokerPublishers } from './brokers/broker-publishers.ts';
import type { PublishOutcome } from './brokers/publish-outcome.ts';
import type { Destination, DestinationOutcome, HostFacts } from './destination.ts';

/**
 * Broker and database destinations (rabbitMq, postgres, natsJetStream, redisStream, mqtt): the
 * endpoint row's destination config handed to the publisher of its type (brokers/), whose outcome
 * (confirmed; retryable; permanent) becomes the dispatcher's. A broker has no status code (recorded as
 * 0) and says nothing about the host the endpoint policies act on, so its failures only retry.
 * `sendEach` is an ordered destination's batch (batching on): its messages published in turn, each
 * its own broker message, done once every one is confirmed.
 */
export function createBrokerDestination(options: {
  readonly guard: AddressGuard;
  readonly publishers?: BrokerPublishers;
}): Destination & Required<Pick<Destination, 'sendEach'>> {
  const publishers = options.publishers ?? createBrokerPublishers({ guard: options.guard });
  /** A destination whose stored type has no publisher (or nothing to publish) fails for good. */
  const refused = (error: string) => toOutcome({ kind: 'permanent', error, durationMs: 0 });
  const noPublisher = (type: string | undefined) =>
    refused(`no publisher for destination type ${type ?? 'http'}`);
  /** A publish cut short by shutdown records nothing: its lease lapses and it is sent again. */
  const settle = (outcome: PublishOutcome, signal: AbortSignal | undefined): DestinationOutcome =>
    signal?.aborted && outcome.kind !== 'success' ? { kind: 'aborted' } : toOutcome(outcome);
  return {
    async send(endpoint, message, sendOptions) {
      const destination = endpoint.destination && brokerDestinationOf(endpoint.destination);
      if (!destination) return noPublisher(endpoint.destination?.type);
      const { timeoutMs, signal } = sendOptions;
      return settle(await publishers.publish(destination, message, timeoutMs, signal), signal);
    },
    async sendEach(endpoint, messages, sendOptions) {
      const destination = endpoint.destination && brokerDestinationOf(endpoint.destination);
      if (!destination) return noPublisher(endpoint.destination?.type);
      if (messages.length === 0) return refused('an empty batch');
      const { timeoutMs, signal } = sendOptions;
      return settle(await publishers.publishEach(destination, messages, timeoutMs, signal), signal);
    },
    close: () => publishers.close(),
  };
}

/**
 * The publisher's config for a stored destination. The API keeps Svix's field names for Svix's types:
 * `postgres` takes `url`, `password` and `tableName`, the publisher a URL with the password and `table`.
 */
export function brokerDestinationOf(stored: StoredDestination): BrokerDestination | undefined {
  if (!BROKER_TYPES.includes(stored.type as BrokerType)) return undefined;
  if (stored.type !== 'postgres') return stored as unknown as BrokerDestination;
  const { url, password, tableName } = stored.config as { url: string; password?: string; tableName: string };
  const withPassword = URL.parse(url);
  if (withPassword && typeof password === 'string') withPassword.password = encodeURIComponent(password);
  return { type: 'postgres', config: { url: withPassword?.href ?? url, table: tableName } };
}

/** A publisher config field's name in the API's config (where the two differ). */
export function apiFieldOf(type: string, field: string): string {
  return type === 'postgres' && field === 'table' ? 'tableName' : field;
}

const NO_HOST_FACTS: HostFacts = { reached: false, unreachable: false, gone: false, slowDown: false };

function toOutcome(outcome: PublishOutcome): DestinationOutcome {
  const recorded = {
    statusCode: 0,
    response: outcome.kind === 'success' ? outcome.response : outcome.error,
    durationMs: outcome.durationMs,
  };
  switch (outcome.kind) {
    case 'success':
      return { kind: 'success', recorded };
    case 'retryable':
      return { kind: 'retryable', recorded, host: NO_HOST_FACTS, retryAfterMs: outcome.retryAfterMs };
    case 'permanent':
      return { kind: 'permanent', recorded, host: NO_HOST_FACTS };
  }
}
