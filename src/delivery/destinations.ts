import type { Config } from '../config/settings.ts';
import type { Logger } from '../log/logger.ts';
import type { Destination } from './destination.ts';
import { createHttpClient } from './http-client.ts';
import { createHttpDestination } from './http-destination.ts';

/**
 * Every kind of destination this process can deliver to, as one `Destination` for the dispatcher.
 * Endpoints are HTTP today; a new kind adds its implementation here, chosen by the endpoint's type.
 */
export function createDestinations(
  config: Pick<Config, 'allowedSubnets' | 'connectionsPerOrigin' | 'responseBodyLimit' | 'deliveryTimeout'>,
  logger: Logger,
): Destination {
  const http = createHttpDestination(createHttpClient(config, logger));
  return {
    send: (endpoint, message, options) => http.send(endpoint, message, options),
    close: () => http.close(),
  };
}
