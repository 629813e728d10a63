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
 * deliveries: its stream is the application's messages accepted since the endpoint was created, in id
 * order (ids grow with ingest: domain/ids.ts), that its event types, channels and payload filter match,
 * and whose payload is still retained. A position in the stream is an exclusive lower bound on message
 * ids, so a read continues after the last message it returned, or after the last one it looked at.
 *
 * A message is readable only once every message with a smaller id has committed, or a reader could move
 * past one still in its transaction and never see it. In this process that is known exactly (the ids
 * of ingests in flight, `trackIngest`); where other processes also write (`multipleWriters`), a message
 * is also held back until `SETTLE_MS` after it was accepted, the bound assumed for their commits.
 */

/** How long after acceptance another process's message is assumed committed (multiple writers only). */
export const SETTLE_MS = 2_000;
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

/** Exclusive upper bound of the ids a read may return now; null = none. */
function horizon(storage: Storage, now: number): string | null {
  const oldest: string | undefined = inFlight.get(storage)?.values().next().value;
  const settled = storage.capabilities.multipleWriters ? idBoundary('message', now - SETTLE_MS) : null;
  if (oldest === undefined) return settled;
  return settled === null || oldest < settled ? oldest : settled;
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

const POSITION = /^msg_[0-9A-Za-z]{27}$/;

/** A v1 iterator is the position, opaque to clients. */
export function iteratorOf(position: string): string {
  return Buffer.from(position).toString('base64url');
}

export function positionOf(iterator: string, endpoint: EndpointRecord): string {
  const position = Buffer.from(iterator, 'base64url').toString();
  if (!POSITION.test(position))
    throw ApiError.validation(
      ['query', 'iterator'],
      'the iterator is not one this polling endpoint returned; pass an iterator from a previous poll, or none to start over',
    );
  return atLeast(position, streamStart(endpoint));
}

export interface StreamRead {
  /** Only messages of this event type (the v1 poll's `event_type`); within the endpoint's own. */
  eventType?: string | undefined;
  /** Only messages sent with this channel (the v1 poll's `channel`). */
  channel?: string | undefined;
}

export interface StreamBatch {
  messages: MessageRecord[];
  /** The position after this batch: after the last message returned, or the last one looked at. */
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
  now: number,
  read: StreamRead = {},
): Promise<StreamBatch> {
  let position = atLeast(from, streamStart(endpoint));
  if (endpoint.disabled || limit <= 0) return { messages: [], position, done: true };
  const eventTypes =
    read.eventType === undefined
      ? endpoint.eventTypes
      : endpoint.eventTypes === null || endpoint.eventTypes.includes(read.eventType)
        ? [read.eventType]
        : [];
  const before = horizon(storage, now);
  const messages: MessageRecord[] = [];
  for (let scanned = 0; scanned < SCAN_BUDGET; ) {
    const rows = await storage.polling.messagesAfter(endpoint.appId, {
      after: position,
      before,
      eventTypes,
      channel: read.channel,
      limit: SCAN_PAGE,
    });
    for (const row of rows) {
      position = row.id;
      if (hears(endpoint, row)) messages.push(row);
      if (messages.length === limit) return { messages, position, done: false };
    }
    scanned += rows.length;
    if (rows.length < SCAN_PAGE) return { messages, position, done: true };
  }
  return { messages, position, done: false };
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
  const batch = await readStream(storage, endpoint, from, limit, now);
  const first = consumer.committedOffset + leased.length + 1;
  const messages = batch.messages.map((message, index) => ({ message, offset: first + index }));
  const handed = [...leased, ...batch.messages.map((message) => message.id)];
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
