import type { Config } from '../config/settings.ts';
import { ORDERED_TYPE } from '../domain/ordered-batch.ts';
import type { Logger } from '../log/logger.ts';
import { createAddressGuard } from './address-guard.ts';
import { createBrokerDestination } from './broker-destination.ts';
import type { Destination } from './destination.ts';
import { createHttpClient } from './http-client.ts';
import { createHttpDestination } from './http-destination.ts';

/**
 * Every kind of destination this process can deliver to, as one `Destination` for the dispatcher,
 * chosen by the endpoint's kind: an HTTP endpoint and a `fifoEndpoint` destination (its batches) go to
 * the HTTP client, a broker destination (rabbitMq, postgres, natsJetStream, redisStream, mqtt) to its publisher,
 * whose client library loads the first time a destination of that type is sent to; a broker
 * destination's ordered batch (batching on) goes to its publisher message by message (`sendEach`).
 */
export function createDestinations(
  config: Pick<Config, 'allowedSubnets' | 'connectionsPerOrigin' | 'responseBodyLimit' | 'deliveryTimeout'>,
  logger: Logger,
): Destination {
  const http = createHttpDestination(createHttpClient(config, logger));
  const brokers = createBrokerDestination({ guard: createAddressGuard(config.allowedSubnets) });
  return {
    send: (endpoint, message, options) =>
      endpoint.destination && endpoint.destination.type !== ORDERED_TYPE
        ? brokers.send(endpoint, message, options)
        : http.send(endpoint, message, options),
    // Only a broker destination is ever sent a batch message by message (a fifoEndpoint's is one request).
    sendEach: (endpoint, messages, options) => brokers.sendEach(endpoint, messages, options),
    close: async () => {
      await Promise.all([http.close(), brokers.close()]);
    },
  };
}
