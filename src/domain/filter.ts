/** What fan-out needs to know about a message. */
export interface FanOutMessage {
  eventType: string;
  /** null or empty = the message has no channels. */
  channels: readonly string[] | null;
}

/** What fan-out needs to know about an endpoint. */
export interface FilterableEndpoint {
  disabled: boolean;
  /** null = every event type. */
  eventTypes: readonly string[] | null;
  /** null = every channel. */
  channels: readonly string[] | null;
}

/**
 * Svix's rule: an endpoint hears a message when it is enabled, its event types include the message's
 * (null = every type), and its channels intersect the message's (null = every channel). An endpoint that
 * names channels does not hear a message that has none.
 */
export function endpointMatches(endpoint: FilterableEndpoint, message: FanOutMessage): boolean {
  if (endpoint.disabled) return false;
  if (endpoint.eventTypes !== null && !endpoint.eventTypes.includes(message.eventType)) return false;
  if (endpoint.channels === null) return true;
  const channels = message.channels;
  if (channels === null || channels.length === 0) return false;
  return endpoint.channels.some((channel) => channels.includes(channel));
}

/** The endpoints a message fans out to, in the order given. */
export function fanOut<T extends FilterableEndpoint>(endpoints: readonly T[], message: FanOutMessage): T[] {
  return endpoints.filter((endpoint) => endpointMatches(endpoint, message));
}
