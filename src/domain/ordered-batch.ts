/**
 * Ordered delivery's pure rules (docs/destinations.md): which destinations are delivered as an ordered
 * stream of batches (every fifoEndpoint, and a broker destination whose batching asks for it), a
 * destination's batching, the body of one HTTP batch, and the webhook id a batch is recorded under.
 */

export const ORDERED_TYPE = 'fifoEndpoint';

/**
 * The broker and database types that take batching: with `batchSize` > 1 or `maxWaitSecs` > 0 they are
 * delivered as an ordered stream (each message its own broker message, a batch at a time); with 1 and 0
 * each message is a delivery of its own, unordered, as an HTTP endpoint's.
 */
export const BATCHABLE_BROKER_TYPES: readonly string[] = [
  'rabbitMq',
  'postgres',
  'natsJetStream',
  'redisStream',
  'mqtt',
];

/** Svix's defaults for a destination's batching: batches of up to 100, sent at once. */
export const DEFAULT_BATCHING: Batching = { batchSize: 100, maxWaitSecs: 0 };

/** A broker destination's batching when none is asked for: each message on its own, at once. */
export const PER_MESSAGE: Batching = { batchSize: 1, maxWaitSecs: 0 };

export interface Batching {
  /** Most messages in one request (1–1000). */
  batchSize: number;
  /** How long a batch short of `batchSize` waits for more, counted from its oldest message (0–300). */
  maxWaitSecs: number;
}

/**
 * The batching stored in a destination's config (`batchSize`, `maxWaitSecs`), with `defaults` for what
 * is not stored: Svix's for a fifoEndpoint, per-message for a broker type.
 */
export function batchingOf(
  config: Readonly<Record<string, unknown>>,
  defaults: Batching = DEFAULT_BATCHING,
): Batching {
  const size = config['batchSize'];
  const wait = config['maxWaitSecs'];
  return {
    batchSize: typeof size === 'number' ? size : defaults.batchSize,
    maxWaitSecs: typeof wait === 'number' ? wait : defaults.maxWaitSecs,
  };
}

/** Whether this batching makes a broker destination an ordered stream (anything but 1 and 0). */
export function isBatched(batching: Batching): boolean {
  return batching.batchSize > 1 || batching.maxWaitSecs > 0;
}

/**
 * The batching of a destination delivered as an ordered stream (a fifoEndpoint, or a broker type with
 * batching), or undefined for one whose messages are each a delivery of their own (an HTTP endpoint, a
 * per-message broker destination, a polling endpoint). The one rule fan-out, the ordered loop and the
 * API share, so a message is queued exactly where it is then sent from.
 */
export function orderedBatching(
  destination: { readonly type: string; readonly config: Readonly<Record<string, unknown>> } | undefined,
): Batching | undefined {
  if (!destination) return undefined;
  if (destination.type === ORDERED_TYPE) return batchingOf(destination.config);
  if (!BATCHABLE_BROKER_TYPES.includes(destination.type)) return undefined;
  const batching = batchingOf(destination.config, PER_MESSAGE);
  return isBatched(batching) ? batching : undefined;
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
