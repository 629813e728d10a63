import { fanOut } from '../../domain/filter.ts';
import { idBoundary } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import type {
  EndpointRecord,
  MessageRecord,
  PollingConsumerRecord,
  Storage,
} from '../../storage/contract.ts';

/**
 * Reading a polling endpoint (docs/destinations.md, `pollingEndpoint`). A polling endpoint has no
 * deliveries: its stream is the application's messages accepted since the endpoint was created that
 * its event types, channels and payload filter match, and whose payload is still retained, in the
 * order the storage reads them (`PollingStore.order`).
 *
 * A position in the stream has two parts: a floor, an id boundary below which no message is in it
 * (the endpoint's creation, or a seek's time), and a place in the read order after which the read
 * continues (the last message returned or looked at, or the end of the last read). A reader must
 * never move its place past a message that may still commit, or it never sees it:
 * - `commit` order (PostgreSQL): the store returns only messages whose transaction, and every earlier
 *   one, has ended, in transaction order, so a place is exact whichever processes write. The position
 *   is written `<floor>/<tx>/<id>`; a bare floor (`<floor>`: a stream start, a seek, or a position kept
 *   before schema 15, when positions were message ids) reads everything above it from the first.
 * - `id` order (SQLite: one process writes): the ids of this process's ingests in flight are known
 *   exactly (`trackIngest`) and a read stops below the oldest. Floor and place are one message id.
 * Positions stay opaque to clients (iterators are their base64url).
 */

/** Rows looked at per storage read, and most looked at per poll: a poll over many non-matching messages
 * answers `done: false` with the position it reached rather than scanning without end. */
const SCAN_PAGE = 500;
const SCAN_BUDGET = 5_000;
/** Most uncommitted messages a consumer holds under leases. */
const MAX_HANDED = 10_000;

/** Ingests in flight per storage, ids in ingest order (so in id order: the first is the smallest). */
const inFlight = new WeakMap<Storage, Set<string>>();

/** Marks a message id as being committed until the returned function is called. */
export function trackIngest(storage: Storage, id: string): () => void {
  let ids = inFlight.get(storage);
  if (!ids) {
    ids = new Set();
    inFlight.set(storage, ids);
  }
  ids.add(id);
  const set = ids;
  return () => set.delete(id);
}

/** `id` order: the exclusive upper bound of the ids a read may return now; null = none. */
function horizon(storage: Storage): string | null {
  if (storage.polling.order === 'commit') return null;
  const oldest: string | undefined = inFlight.get(storage)?.values().next().value;
  return oldest ?? null;
}

/** Where a polling endpoint's stream begins: its creation. */
export function streamStart(endpoint: EndpointRecord): string {
  return idBoundary('message', endpoint.createdAt);
}

/** The position just before the messages accepted after `ms` (a seek, or `after` on a poll). */
export function positionAfter(endpoint: EndpointRecord, ms: number): string {
  return atLeast(idBoundary('message', Math.floor(ms) + 1), streamStart(endpoint));
}

const atLeast = (position: string, floor: string) => (position < floor ? floor : position);

const ID = '[0-9A-Za-z]{27}';
const FLOOR = new RegExp(`^msg_${ID}$`);
const COMMIT_POSITION = new RegExp(`^(msg_${ID})/([0-9]{1,20})/((?:msg_${ID})?)$`);

interface Position {
  floor: string;
  /** A place in the store's read order; null = from the first message above the floor. */
  place: string | null;
}

/** A position, or undefined when it is not one this storage makes. */
function parse(storage: Storage, position: string): Position | undefined {
  if (FLOOR.test(position)) return { floor: position, place: null };
  if (storage.polling.order !== 'commit') return undefined;
  const match = COMMIT_POSITION.exec(position);
  if (!match) return undefined;
  const [, floor = '', tx = '', id = ''] = match;
  return { floor, place: `${tx}/${id}` };
}

function format(storage: Storage, { floor, place }: Position): string {
  if (place === null) return floor;
  return storage.polling.order === 'commit' ? `${floor}/${place}` : place;
}

/** A v1 iterator is the position, opaque to clients. */
export function iteratorOf(position: string): string {
  return Buffer.from(position).toString('base64url');
}

export function positionOf(storage: Storage, iterator: string, endpoint: EndpointRecord): string {
  const position = parse(storage, Buffer.from(iterator, 'base64url').toString());
  if (!position)
    throw ApiError.validation(
      ['query', 'iterator'],
      'the iterator is not one this polling endpoint returned; pass an iterator from a previous poll, or none to start over',
    );
  return format(storage, withFloor(position, endpoint));
}

/** Never below the stream's start (in `id` order a parsed position has no place: floor and place are one id). */
function withFloor(position: Position, endpoint: EndpointRecord): Position {
  const start = streamStart(endpoint);
  if (position.floor >= start) return position;
  return { floor: start, place: position.place };
}

export interface StreamRead {
  /** Only messages of this event type (the v1 poll's `event_type`); within the endpoint's own. */
  eventType?: string | undefined;
  /** Only messages sent with this channel (the v1 poll's `channel`). */
  channel?: string | undefined;
}

export interface StreamBatch {
  /** Each message with the position just after it. */
  messages: { message: MessageRecord; position: string }[];
  /** The position after this batch: after the last message returned, or the last one looked at, or
   * (commit order, nothing more readable) after everything that may be read now. */
  position: string;
  /** Nothing more is readable now. */
  done: boolean;
}

/**
 * Up to `limit` messages of the endpoint's stream after `from`. A disabled polling endpoint reads as
 * empty and keeps its place: what arrives meanwhile is read once it is enabled again.
 */
export async function readStream(
  storage: Storage,
  endpoint: EndpointRecord,
  from: string,
  limit: number,
  read: StreamRead = {},
): Promise<StreamBatch> {
  const parsed = parse(storage, from);
  // Positions come from this module (stored, or checked by positionOf): another form is a bug.
  if (!parsed) throw new Error(`not a polling position: ${from}`);
  const start = withFloor(parsed, endpoint);
  const { floor } = start;
  let place = start.place;
  const position = () => format(storage, { floor, place });
  if (endpoint.disabled || limit <= 0) return { messages: [], position: position(), done: true };
  const eventTypes =
    read.eventType === undefined
      ? endpoint.eventTypes
      : endpoint.eventTypes === null || endpoint.eventTypes.includes(read.eventType)
        ? [read.eventType]
        : [];
  const before = horizon(storage);
  const messages: StreamBatch['messages'] = [];
  for (let scanned = 0; scanned < SCAN_BUDGET; ) {
    const page = await storage.polling.messagesAfter(endpoint.appId, {
      floor,
      after: place,
      before,
      eventTypes,
      channel: read.channel,
      limit: SCAN_PAGE,
    });
    if (page.unknownPlace)
      throw new ApiError(
        'conflict',
        'this polling position names a transaction the database has not reached (an iterator not made by this server, or a database restored from a logical dump: docs/operations.md); poll without an iterator, or seek the consumer',
      );
    for (const row of page.rows) {
      place = row.place;
      if (hears(endpoint, row.message)) messages.push({ message: row.message, position: position() });
      if (messages.length === limit) return { messages, position: position(), done: false };
    }
    scanned += page.rows.length;
    if (page.rows.length < SCAN_PAGE) {
      if (page.end !== null) place = page.end;
      return { messages, position: position(), done: true };
    }
  }
  return { messages, position: position(), done: false };
}

/** The endpoint's channels and payload filter (its event types were applied in SQL); no expired payloads. */
function hears(endpoint: EndpointRecord, message: MessageRecord): boolean {
  if (message.payload === null) return false;
  return fanOut([{ ...endpoint, disabled: false }], { ...message, payload: message.payload }).length === 1;
}

/** Svix's `PollingEndpointMessageOut` (and, with `offset`, `PollerV2MessageOut`). */
export function polledMessageOut(message: MessageRecord, offset?: number) {
  return {
    ...(offset !== undefined ? { offset } : {}),
    id: message.id,
    eventId: message.uid,
    eventType: message.eventType,
    payload: JSON.parse(message.payload ?? '{}') as Record<string, unknown>,
    channels: message.channels,
    tags: message.tags ?? null,
    timestamp: new Date(message.createdAt).toISOString(),
    deliverAt: message.deliverAt != null ? new Date(message.deliverAt).toISOString() : null,
    headers: null,
  };
}

/** A consumer not seen before starts at the beginning of the stream (`earliest`) or at `now` (`latest`). */
export function newConsumer(
  endpoint: EndpointRecord,
  consumerId: string,
  now: number,
  start: 'earliest' | 'latest' = 'earliest',
): PollingConsumerRecord {
  return {
    endpointId: endpoint.id,
    consumerId,
    position: start === 'latest' ? positionAfter(endpoint, now - 1) : streamStart(endpoint),
    committedOffset: 0,
    handed: [],
    leaseExpiresAt: null,
    updatedAt: now,
  };
}

/**
 * A v2 poll: continues after the messages handed under a lease still running, else reads again from the
 * committed position. With `leaseMs` > 0 the batch is leased: polls meanwhile get the messages after it,
 * and when the lease ends uncommitted messages are handed out again, with the same offsets.
 */
export async function pollConsumer(
  storage: Storage,
  endpoint: EndpointRecord,
  consumer: PollingConsumerRecord,
  limit: number,
  leaseMs: number,
  now: number,
): Promise<{
  consumer: PollingConsumerRecord;
  messages: { message: MessageRecord; offset: number }[];
  done: boolean;
}> {
  // A consumer that keeps leasing without committing reads again from its committed place once it holds
  // MAX_HANDED uncommitted messages, which bounds its row.
  const leasing =
    consumer.leaseExpiresAt !== null && consumer.leaseExpiresAt > now && consumer.handed.length < MAX_HANDED;
  const leased = leasing ? consumer.handed : [];
  const from = leased.at(-1) ?? consumer.position;
  const batch = await readStream(storage, endpoint, from, limit);
  const first = consumer.committedOffset + leased.length + 1;
  const messages = batch.messages.map(({ message }, index) => ({ message, offset: first + index }));
  const handed = [...leased, ...batch.messages.map(({ position }) => position)];
  const next: PollingConsumerRecord = {
    ...consumer,
    handed,
    leaseExpiresAt: leaseMs > 0 ? now + leaseMs : null,
    updatedAt: now,
  };
  return { consumer: next, messages, done: batch.done };
}

/** Commits up to `offset` (inclusive). An offset at or below the committed one changes nothing. */
export function commitOffset(
  consumer: PollingConsumerRecord,
  offset: number,
  now: number,
): PollingConsumerRecord {
  if (offset <= consumer.committedOffset) return consumer;
  const index = offset - consumer.committedOffset - 1;
  const id = consumer.handed[index];
  if (id === undefined) {
    const last = consumer.committedOffset + consumer.handed.length;
    throw ApiError.validation(
      ['body', 'offset'],
      consumer.handed.length === 0
        ? `offset ${offset} was not handed to this consumer: everything up to ${consumer.committedOffset} is committed and nothing is outstanding; poll first`
        : `offset ${offset} was not handed to this consumer: the last one handed out is ${last}`,
    );
  }
  return {
    ...consumer,
    position: id,
    committedOffset: offset,
    handed: consumer.handed.slice(index + 1),
    updatedAt: now,
  };
}
