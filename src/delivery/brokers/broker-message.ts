/**
 * A message ready for a broker: its body exactly as signed, and the Standard Webhooks headers the
 * dispatcher computed for it. Brokers carry the headers as their own message metadata (AMQP
 * headers, NATS headers, Redis stream fields, MQTT v5 user properties, table columns), so a
 * consumer verifies the signature with the destination's secret as an HTTP receiver would.
 */
export interface BrokerMessage {
  /** The body as signed: the payload's JSON text. */
  readonly body: string;
  /** `webhook-id`, `webhook-timestamp` (seconds), `webhook-signature`, plus any configured headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The message's event type, also carried as `webhook-event-type`. */
  readonly eventType: string;
}

export const EVENT_TYPE_HEADER = 'webhook-event-type';

/** The metadata every broker carries: the signed headers plus the event type, names lower-cased. */
export function brokerHeaders(message: BrokerMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) headers[name.toLowerCase()] = value;
  headers[EVENT_TYPE_HEADER] = message.eventType;
  return headers;
}

export function webhookId(message: BrokerMessage): string {
  return brokerHeaders(message)['webhook-id'] ?? '';
}

export function webhookTimestamp(message: BrokerMessage): number {
  return Number(brokerHeaders(message)['webhook-timestamp'] ?? 0);
}
