import { compileFilter, type PayloadFilter, type PayloadPredicate } from './payload-filter.ts';

/** What fan-out needs to know about a message. */
export interface FanOutMessage {
  eventType: string;
  /** null or empty = the message has no channels. */
  channels: readonly string[] | null;
  /** The payload's JSON text; parsed once, and only when a matching endpoint has a payload filter. */
  payload?: string;
}

/** What fan-out needs to know about an endpoint. */
export interface FilterableEndpoint {
  disabled: boolean;
  /** null = every event type. */
  eventTypes: readonly string[] | null;
  /** null = every channel. */
  channels: readonly string[] | null;
  /** The payload filter; absent or null = every payload. */
  filter?: PayloadFilter | null | undefined;
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

/**
 * Compiled payload filters, keyed by the filter object: the endpoint cache hands out the same
 * records until an endpoint changes, so each filter is compiled once per load, not per message.
 */
const compiled = new WeakMap<PayloadFilter, PayloadPredicate>();

function predicateFor(filter: PayloadFilter): PayloadPredicate {
  let predicate = compiled.get(filter);
  if (!predicate) {
    try {
      predicate = compileFilter(filter);
    } catch {
      // Filters are validated when saved; one a later version no longer accepts delivers
      // everything rather than silently dropping messages.
      predicate = () => true;
    }
    compiled.set(filter, predicate);
  }
  return predicate;
}

const UNPARSED = Symbol('unparsed');

/**
 * The endpoints a message fans out to, in the order given. An endpoint with a payload filter hears
 * the message only when the filter also matches its payload (docs/api.md, "Payload filters").
 */
export function fanOut<T extends FilterableEndpoint>(endpoints: readonly T[], message: FanOutMessage): T[] {
  let parsed: unknown = UNPARSED;
  return endpoints.filter((endpoint) => {
    if (!endpointMatches(endpoint, message)) return false;
    const filter = endpoint.filter;
    if (!filter || message.payload === undefined) return true;
    if (parsed === UNPARSED) parsed = JSON.parse(message.payload);
    return predicateFor(filter)(parsed);
  });
}
