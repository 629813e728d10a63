/**
 * A message ready for a broker: its body exactly as signed, and the headers the dispatcher computed
 * for it (the Standard Webhooks `webhook-*` headers and/or their `svix-*` twins, and the endpoint's
 * own). Brokers carry the headers as their own message metadata (AMQP headers, NATS headers, Redis
 * stream fields, MQTT v5 user properties, table columns), so a consumer verifies the signature with
 * the destination's secret as an HTTP receiver would. The shape is the dispatcher's outbound message.
 */
export interface BrokerMessage {
  /** The message id, the value of `webhook-id`. */
  readonly msgId: string;
  /** The message's event type, also carried as `webhook-event-type`. */
  readonly eventType: string;
  /** The body as signed: the payload's JSON text. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export const EVENT_TYPE_HEADER = 'webhook-event-type';

/** The metadata every broker carries: the message's headers plus the event type, names lower-cased. */
export function brokerHeaders(message: BrokerMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name.toLowerCase()] = value;
  headers[EVENT_TYPE_HEADER] = message.eventType;
  return headers;
}

/** A signature header by its Standard Webhooks name, or its `svix-` twin. */
function signed(message: BrokerMessage, name: 'timestamp' | 'signature'): string | undefined {
  const headers = brokerHeaders(message);
  return headers[`webhook-${name}`] ?? headers[`svix-${name}`];
}

/** The signing time in Unix seconds (0 when the message carries none). */
export function signedTimestamp(message: BrokerMessage): number {
  return Number(signed(message, 'timestamp') ?? 0);
}

export function signature(message: BrokerMessage): string {
  return signed(message, 'signature') ?? '';
}
