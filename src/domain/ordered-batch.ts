/**
 * Ordered delivery's pure rules (fifoEndpoint destinations, docs/destinations.md): a destination's
 * batching, the body of one batch, and the webhook id it is signed under.
 */

export const ORDERED_TYPE = 'fifoEndpoint';

/** Svix's defaults for a destination's batching: batches of up to 100, sent at once. */
export const DEFAULT_BATCHING: Batching = { batchSize: 100, maxWaitSecs: 0 };

export interface Batching {
  /** Most messages in one request (1–1000). */
  batchSize: number;
  /** How long a batch short of `batchSize` waits for more, counted from its oldest message (0–300). */
  maxWaitSecs: number;
}

/** The batching stored in a fifoEndpoint's config (`batchSize`, `maxWaitSecs`), with the defaults. */
export function batchingOf(config: Readonly<Record<string, unknown>>): Batching {
  const size = config['batchSize'];
  const wait = config['maxWaitSecs'];
  return {
    batchSize: typeof size === 'number' ? size : DEFAULT_BATCHING.batchSize,
    maxWaitSecs: typeof wait === 'number' ? wait : DEFAULT_BATCHING.maxWaitSecs,
  };
}

/** One message of a batch. */
export interface BatchEvent {
  readonly msgId: string;
  readonly eventType: string;
  /** The payload's JSON text exactly as accepted; null once expunged. */
  readonly payload: string | null;
  readonly createdAt: number;
}

/**
 * The request body of a batch: `{"events":[{"id","eventType","timestamp","payload"}, ...]}`, oldest
 * first. The `events` array of `{eventType, payload}` is the shape Svix hands a FIFO endpoint's
 * transformation; `id` (the message id, to de-duplicate on) and `timestamp` (when it was accepted) are
 * added. Each payload is spliced in as the JSON text accepted, so its bytes are never re-serialised.
 */
export function batchBody(events: readonly BatchEvent[]): string {
  const parts = events.map(
    (event) =>
      `{"id":${JSON.stringify(event.msgId)},"eventType":${JSON.stringify(event.eventType)},` +
      `"timestamp":${JSON.stringify(new Date(event.createdAt).toISOString())},"payload":${event.payload ?? 'null'}}`,
  );
  return `{"events":[${parts.join(',')}]}`;
}

/**
 * The `webhook-id` a batch is signed under: the message id for a batch of one, else
 * `<first id>..<last id>`. A repeated batch of the same messages has the same id; a retry that carries
 * more messages (they queued behind it meanwhile) has another.
 */
export function batchWebhookId(events: readonly Pick<BatchEvent, 'msgId'>[]): string {
  const first = events[0]?.msgId ?? '';
  const last = events.at(-1)?.msgId ?? first;
  return first === last ? first : `${first}..${last}`;
}
