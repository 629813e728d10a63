import type { PayloadFilter } from '../domain/payload-filter.ts';

/**
 * The storage contract: everything the API, the dispatcher and the delivery code may ask of a
 * database. Nothing here names a driver, a connection or a transaction; a backend (SQLite, PostgreSQL)
 * owns its lifecycle and says what it can do through `capabilities`.
 *
 * Conventions: times are milliseconds since the Unix epoch; JSON-ish fields are plain values;
 * `idOrUid` parameters accept either the Hookyard id or the caller's uid.
 *
 * A delivery (one row per message × endpoint; Svix's "message destination") is in one of the states
 * pending, sending, leased, parked, held, success or fail; the state machine and every transition
 * between them is storage/sql/delivery-transitions.ts (summed up in docs/architecture.md). `status`
 * on records is the Svix status (0 success, 1 pending, 2 fail, 3 sending, 4 canceled): a leased, parked or held
 * delivery shows the status it had when it was queued.
 */

import type { MessageStatus, TriggerType } from '../domain/delivery-status.ts';
import type { AttemptSignal, EndpointHealthRecord } from '../domain/endpoint-policy.ts';

export { MessageStatus, statusText, TriggerType } from '../domain/delivery-status.ts';
export type { AttemptSignal, EndpointHealthRecord } from '../domain/endpoint-policy.ts';

export interface StorageCapabilities {
  /** Several processes may write at once (claims must use row locks, not process memory). */
  readonly multipleWriters: boolean;
  /**
   * Row locks can skip rows others hold (`FOR UPDATE SKIP LOCKED`), so the claims and bulk moves of
   * several workers pass each other instead of queueing.
   */
  readonly skipLocked: boolean;
  /** Cross-process change notifications (`subscribe` hears other processes' changes). */
  readonly listenNotify: boolean;
}

export interface ApplicationRecord {
  id: string;
  uid: string | null;
  name: string;
  throttleRate: number | null;
  metadata: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface EventTypeRecord {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  featureFlag: string | null;
  schemas: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

/** A signing key. `expiresAt` is set on a rotated-out key that still signs during its grace period. */
export interface EndpointSecret {
  /** `whsec_…` (v1, HMAC-SHA256) or `whsk_…` (v1a, ed25519 private key). */
  key: string;
  expiresAt: number | null;
}

export interface EndpointRecord {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  disabled: boolean;
  /** null = every event type. */
  eventTypes: string[] | null;
  /** null = every channel. */
  channels: string[] | null;
  /** The payload filter (docs/api.md); absent or null = every payload. */
  filter?: PayloadFilter | null;
  throttleRate: number | null;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  /** Newest first; the first is the current secret. */
  secrets: EndpointSecret[];
  createdAt: number;
  updatedAt: number;
  /**
   * Absent for an HTTP endpoint. A destination of the Destination API (docs/destinations.md) is an
   * endpoint row with its type and that type's config; `url` then holds its address without credentials.
   */
  destination?: StoredDestination;
  /** Hookyard addition: client certificate, trusted CAs and proxy of an HTTP endpoint; absent = none. */
  egress?: EndpointEgress;
}

/**
 * How deliveries to an HTTP endpoint leave Hookyard (docs/destinations.md, "Egress"). Checked when
 * saved (api/use-cases/egress.ts); the key and the proxy URL are credentials, never shown by the API.
 */
export interface EndpointEgress {
  /** PEM certificate (chain, leaf first) presented to the receiver; set together with clientKey. */
  clientCertificate: string | null;
  /** PEM private key of clientCertificate (unencrypted PKCS#8, PKCS#1 or SEC1). */
  clientKey: string | null;
  /** PEM certificates the receiver's certificate must chain to, instead of the public roots. */
  caBundle: string | null;
  proxy: EgressProxy;
}

/** `default`: HOOKYARD_EGRESS_PROXY when set, else direct; `direct`: never a proxy; `proxy`: this one. */
export type EgressProxy = { kind: 'default' } | { kind: 'direct' } | { kind: 'proxy'; url: string };

/** A destination's type (`rabbitMq`, `redisStream`, ...) and its config as the API accepted it. */
export interface StoredDestination {
  type: string;
  config: Record<string, unknown>;
}

/** Which rows `EndpointStore.list` walks: the HTTP endpoints, or the Destination API's destinations. */
export type EndpointKind = 'http' | 'destination';

export interface MessageRecord {
  id: string;
  appId: string;
  /** Svix `eventId`: the caller's idempotent id for the message. */
  uid: string | null;
  eventType: string;
  channels: string[] | null;
  /** The JSON text exactly as it will be sent; null once expunged. */
  payload: string | null;
  payloadExpiresAt: number;
  createdAt: number;
  /** Svix message tags (a list filter); absent or null when none. */
  tags?: string[] | null;
  /** Scheduled delivery: its deliveries are first due then rather than at `createdAt`. */
  deliverAt?: number | null;
  /**
   * The W3C `traceparent` of the ingest span when tracing was on (tracing/): every attempt of the message
   * continues that trace. Absent when none.
   */
  traceContext?: string | null;
}

export interface DeliveryRecord {
  id: string;
  appId: string;
  msgId: string;
  endpointId: string;
  status: MessageStatus;
  attempts: number;
  /** When the next attempt is due (or the lease ends); null when final, or held (see delivery-transitions.ts). */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface AttemptRecord {
  id: string;
  appId: string;
  msgId: string;
  endpointId: string;
  deliveryId: string;
  url: string;
  /** success (0) or fail (2). */
  status: MessageStatus;
  /** 0 when no HTTP response was received (connection error, timeout, blocked address). */
  responseStatusCode: number;
  /** The receiver's body cut to the configured limit, or why no response was received. */
  response: string;
  /** The receiver's response headers (bounded; see http-client.ts); absent without an HTTP response. */
  responseHeaders?: Readonly<Record<string, string>>;
  responseDurationMs: number;
  triggerType: TriggerType;
  createdAt: number;
  /**
   * A batch attempt of an ordered destination (fifoEndpoint): it covered `msgId` .. `lastMsgId`, in
   * all `numEvents` messages. Absent: the attempt was of `msgId` alone.
   */
  batch?: { lastMsgId: string; numEvents: number };
}

/** A page request. `iterator` is an id taken from a previous page; `reverse` walks the other way. */
export interface PageQuery {
  limit: number;
  /** Exclusive keyset bound. */
  iterator?: string | undefined;
  /** true: walk towards older rows when the default order is newest-first (a `prevIterator`). */
  reverse?: boolean | undefined;
}

export interface Page<T> {
  data: T[];
  /** True when no row lies beyond this page in the walking direction. */
  done: boolean;
}

export interface TimeRange {
  /** Exclusive upper bound (created before). */
  before?: number | undefined;
  /** Exclusive lower bound (created after). */
  after?: number | undefined;
}

export interface MessageListFilter extends TimeRange {
  channel?: string | undefined;
  eventTypes?: string[] | undefined;
  tag?: string | undefined;
}

export interface AttemptListFilter extends TimeRange {
  /** Attempts of messages carrying this tag. */
  tag?: string | undefined;
  status?: MessageStatus | undefined;
  /** 0 (no response), 100, 200, 300, 400 or 500: the hundreds of the status code. */
  statusCodeClass?: number | undefined;
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  /** Only for listing by message: attempts at this endpoint. */
  endpointId?: string | undefined;
}

export interface DeliveryListFilter extends TimeRange {
  status?: MessageStatus | undefined;
  channel?: string | undefined;
  eventTypes?: string[] | undefined;
  tag?: string | undefined;
}

/** A message being ingested with the endpoints it fans out to. */
export interface NewMessage {
  message: MessageRecord;
  /** Endpoints and destinations that get a delivery of their own. */
  endpointIds: string[];
  /**
   * Ordered destinations (fifoEndpoint) it is queued for instead: numbered per destination in commit
   * order (see `OrderedStore`). Absent or empty: none.
   */
  ordered?: readonly OrderedTarget[] | undefined;
}

/** An ordered destination a message is queued for, with the batch size that makes its batch full. */
export interface OrderedTarget {
  endpointId: string;
  batchSize: number;
}

export type IngestResult =
  | { kind: 'created'; message: MessageRecord }
  /** A message with the same `uid` (eventId) already exists in that application: returned, not redelivered. */
  | { kind: 'duplicate'; message: MessageRecord };

/** What the dispatcher needs to make one attempt, returned by a claim. */
export interface ClaimedTask {
  deliveryId: string;
  appId: string;
  msgId: string;
  endpointId: string;
  /** Attempts already made before this one. */
  attempts: number;
  eventType: string;
  /** null when the payload was expunged; the attempt then fails with that reason. */
  payload: string | null;
  triggerType: TriggerType;
  /** Consecutive failed attempts of this delivery so far (a success resets it). */
  failStreak: number;
  /** The message's `traceContext` (the ingest span), when it has one. */
  traceContext?: string;
}

/**
 * The dispatcher's say over each task a claim is about to hand it, asked inside the claim: undefined =
 * attempt it now; a time = give it back, due then; `'park'` = its endpoint is saturated here: keep it
 * leased to this owner, out of the due range, until `unpark` takes it back (or, should the owner die, until the
 * lease runs out), so a saturated endpoint's backlog is not claimed and given back over and over.
 */
export type ClaimAdmission = (task: {
  deliveryId: string;
  endpointId: string;
}) => number | 'park' | undefined;

/**
 * A dispatcher in this process that takes new deliveries straight from ingest (`Storage.takeIngested`).
 * Ingest leases a batch's deliveries that are due at once to `owner`, as many as `reserve` grants, in
 * its own transaction, and sorts them with the claim's gate there (held, postponed, parked, or
 * admitted); once the batch has committed, the admitted ones reach `settle` as tasks, payload and
 * all. Such a delivery is sent without a claim transaction and without reading its message back, and
 * one that a crash strands comes back like any lease: when it lapses (on SQLite, at the next start).
 */
export interface IngestTaker {
  readonly owner: string;
  readonly leaseMs: number;
  /**
   * Before the ingest transaction: slots for up to `max` of the batch's new deliveries, or undefined
   * to leave them all to claims (no slot is free, or the dispatcher has a backlog to claim first).
   */
  reserve(max: number): IngestReservation | undefined;
}

/** Slots an ingest holds for the deliveries it leases; they stay taken until `settle`. */
export interface IngestReservation {
  readonly slots: number;
  /** Inside the transaction (each time it runs): the claim's say on each leased delivery. */
  admission(): ClaimAdmission;
  /**
   * After the transaction, however it ended (`committed`): the tasks it leased and admitted (none if
   * it failed), oldest delivery first. Gives the slots back.
   */
  settle(tasks: readonly ClaimedTask[], committed: boolean): void;
}

/** The result of one attempt and the delivery's next state, written together. */
export interface AttemptOutcome {
  attempt: AttemptRecord;
  /** success, sending (retry at `nextAttemptAt`) or fail (exhausted). */
  next: MessageStatus;
  nextAttemptAt: number | null;
  /** Absent: a plain success or failure that says nothing about the host (e.g. the payload was expunged). */
  signal?: AttemptSignal | undefined;
}

/** What a completion did to endpoints besides recording attempts. */
export interface CompletionReport {
  /** Endpoints this completion disabled (410, or failing for HOOKYARD_DISABLE_AFTER); each reported once. */
  disabled: Array<{ appId: string; endpointId: string; failSince: number }>;
}

export interface EndpointStatsCounts {
  success: number;
  pending: number;
  sending: number;
  fail: number;
  canceled: number;
}

export interface IdempotencyRecord {
  /** Hash of method, path and body: the same key with another request is a conflict. */
  fingerprint: string;
  /** null while the first request is still running. */
  statusCode: number | null;
  body: string | null;
  createdAt: number;
}

/** A change another process (or this one) made that caches should hear about. */
export interface ChangeEvent {
  kind: 'application' | 'endpoint' | 'event_type';
  appId: string | null;
  id: string;
}

export interface ApplicationListFilter {
  /** Leaves out the application holding this uid (Hookyard's own operational-webhook application). */
  excludeUid?: string | undefined;
  /** Case-insensitive substring of the name or uid (a Hookyard addition for the dashboard). */
  search?: string | undefined;
}

export interface ApplicationStore {
  /** Throws `UniqueViolation` when the uid is taken. */
  create(record: ApplicationRecord): Promise<ApplicationRecord>;
  get(idOrUid: string): Promise<ApplicationRecord | undefined>;
  /** Newest first by default. */
  list(page: PageQuery, filter?: ApplicationListFilter): Promise<Page<ApplicationRecord>>;
  /** Replaces the mutable fields; returns the stored record or undefined when missing. */
  update(record: ApplicationRecord): Promise<ApplicationRecord | undefined>;
  /** Deletes the application and everything under it. */
  delete(id: string): Promise<boolean>;
}

export interface EventTypeStore {
  create(record: EventTypeRecord): Promise<EventTypeRecord>;
  get(name: string): Promise<EventTypeRecord | undefined>;
  /** Ordered by name ascending; `iterator` is a name. */
  list(page: PageQuery, options: { includeArchived: boolean }): Promise<Page<EventTypeRecord>>;
  update(record: EventTypeRecord): Promise<EventTypeRecord | undefined>;
  /** Svix archives rather than deletes (`expunge` deletes for good). */
  delete(name: string, expunge: boolean): Promise<boolean>;
}

export interface EndpointStore {
  create(record: EndpointRecord): Promise<EndpointRecord>;
  get(appId: string, idOrUid: string): Promise<EndpointRecord | undefined>;
  /** Newest first by default. */
  list(appId: string, page: PageQuery, kind?: EndpointKind): Promise<Page<EndpointRecord>>;
  /** Every endpoint of the application (what fan-out reads; callers cache it). */
  listAll(appId: string): Promise<EndpointRecord[]>;
  getMany(ids: readonly string[]): Promise<EndpointRecord[]>;
  /**
   * Changing `disabled` from true to false also releases the deliveries held while it was disabled and
   * forgets its failure history (circuit, fail-since, pause); true from false holds its due deliveries.
   */
  update(record: EndpointRecord): Promise<EndpointRecord | undefined>;
  delete(appId: string, id: string): Promise<boolean>;
  /** The endpoint's delivery-policy state; undefined when it has none yet (never attempted). */
  health(endpointId: string): Promise<EndpointHealthRecord | undefined>;
  /**
   * Svix's endpoint stats: `success` is the successful attempts that finished in the range (from the
   * stats rollup, so it follows HOOKYARD_STATS_RETENTION); the other statuses are the deliveries
   * created in the range now in that status (docs/api.md, "Endpoint stats").
   */
  stats(endpointId: string, range: TimeRange): Promise<EndpointStatsCounts>;
  /**
   * Rewrites the encrypted-at-rest columns of every endpoint with the storage's current key (or in
   * plaintext when it has none), row by row; a row changed meanwhile keeps its newer value.
   * `hookyard reencrypt`; returns how many rows were rewritten.
   */
  reseal(): Promise<number>;
  /**
   * Ids of the keys stored values are encrypted with that this storage cannot open (none, or a
   * start-up error naming HOOKYARD_ENCRYPTION_KEY).
   */
  unknownSealingKeys(): Promise<string[]>;
}

export interface MessageStore {
  /**
   * Stores the message and one pending delivery per endpoint, durably, before resolving.
   * Concurrent calls are group-committed: many messages share one transaction and one fsync.
   */
  ingest(item: NewMessage): Promise<IngestResult>;
  get(appId: string, idOrUid: string): Promise<MessageRecord | undefined>;
  /** Newest first by default. */
  list(appId: string, filter: MessageListFilter, page: PageQuery): Promise<Page<MessageRecord>>;
  /** Drops the payload (keeps the message row); returns false when the message is missing. */
  expungePayload(appId: string, msgId: string): Promise<boolean>;
}

/**
 * A consumer of a polling endpoint (docs/destinations.md, `pollingEndpoint`): where it committed, and
 * what it was handed since. Offsets are the consumer's own numbering of its stream: the message at
 * `position` has `committedOffset`, the ones handed after it `committedOffset + 1`, `+ 2`, ...
 */
export interface PollingConsumerRecord {
  endpointId: string;
  consumerId: string;
  /** Where the consumer reads on from: a stream position (api/use-cases/polling.ts), opaque here. */
  position: string;
  committedOffset: number;
  /** The position after each message handed out after `position`, in order, not yet committed. */
  handed: string[];
  /** While later than now, a poll continues after `handed` instead of reading them again. */
  leaseExpiresAt: number | null;
  updatedAt: number;
}

/** What a polling read selects in SQL; the channel and payload filters are applied by the caller. */
export interface PollingRead {
  /** Exclusive lower bound on ids: messages at or below it are not in the stream (a message id or an id boundary). */
  floor: string;
  /**
   * Exclusive lower bound in the store's read order (`PollingStore.order`): a `place` this store
   * returned; null = from the first message above `floor`. `id` order: a message id. `commit` order:
   * `<transaction id>/<message id>`, the message id empty for a place before every message of that
   * transaction.
   */
  after: string | null;
  /** `id` order only: exclusive upper bound on ids (messages at or above it may still be committing); null = none. */
  before: string | null;
  /** null = every event type. */
  eventTypes: readonly string[] | null;
  /** Only messages sent with this channel. */
  channel?: string | undefined;
  limit: number;
}

export interface PollingPage {
  /** In read order, each with its place: the `after` that continues after it. */
  rows: { message: MessageRecord; place: string }[];
  /**
   * With fewer rows than `limit`: a place after every one of them that no message committed later
   * can precede (`commit` order: the oldest transaction still running), so a read that found nothing
   * still moves on; null = none (`id` order).
   */
  end: string | null;
  /**
   * `after` names a transaction this database has not reached (an iterator made up, or a database
   * restored from a logical dump into another cluster: docs/operations.md); nothing was read.
   */
  unknownPlace?: true;
}

export interface PollingStore {
  /**
   * The order `messagesAfter` reads in. `commit` (PostgreSQL, migration 0015): by the id of each
   * message's transaction, then by id, only transactions below the oldest one still running, so no
   * message committed later can come before a place already read, however many processes write.
   * `id`: by message id; a reader must stop below the ids still being committed (`before`), which
   * only the one process that writes knows.
   */
  readonly order: 'commit' | 'id';
  /** Up to `limit` of the application's messages after `read.after` (and above `read.floor`), of its event types. */
  messagesAfter(appId: string, read: PollingRead): Promise<PollingPage>;
  getConsumer(endpointId: string, consumerId: string): Promise<PollingConsumerRecord | undefined>;
  /** Creates or replaces the consumer's row. */
  saveConsumer(record: PollingConsumerRecord): Promise<void>;
}

export interface DeliveryStore {
  /**
   * Leases up to `limit` due deliveries (unfinished, due time or lapsed lease <= now) for `owner`,
   * oldest due first, and returns what each attempt needs. In the same transaction the endpoint
   * policies and then `admit` sort them: held (endpoint disabled, circuit open and not probing),
   * postponed (paused, throttled, or refused by `admit`), parked (`admit`), or returned. Fewer than `limit` tasks back does
   * not mean nothing more is due; `nextDueAt` says.
   */
  claim(
    owner: string,
    limit: number,
    now: number,
    leaseMs: number,
    admit?: ClaimAdmission,
  ): Promise<ClaimedTask[]>;
  /**
   * Records attempts, moves deliveries to their next state and folds the attempts into their endpoints'
   * policy state (auto-disable, circuit, pause), all in one transaction; group-committed like ingest.
   */
  complete(outcomes: readonly AttemptOutcome[]): Promise<CompletionReport>;
  /** Earliest due time (or lease end) among unfinished deliveries, for the dispatcher's sleep. */
  nextDueAt(): Promise<number | null>;
  /** The message's deliveries joined with their endpoints (Svix "attempted destinations"). */
  listByMessage(
    appId: string,
    msgId: string,
    page: PageQuery,
  ): Promise<Page<{ delivery: DeliveryRecord; endpoint: EndpointRecord }>>;
  /** The endpoint's deliveries joined with their messages (Svix "attempted messages"). */
  listByEndpoint(
    appId: string,
    endpointId: string,
    filter: DeliveryListFilter,
    page: PageQuery,
  ): Promise<Page<{ delivery: DeliveryRecord; message: MessageRecord }>>;
  get(msgId: string, endpointId: string): Promise<DeliveryRecord | undefined>;
  /** Makes every failed delivery of the endpoint created in [since, until) due now. Returns how many. */
  recover(endpointId: string, since: number, until: number, now: number): Promise<number>;
  /**
   * Takes up to `limit` of the endpoint's deliveries that `owner` parked back (oldest first), leased to
   * `owner` for `leaseMs`, through the same endpoint gate as a claim: the returned tasks are for its
   * local queue. `taken` counts the rows taken, gated or not; fewer than `limit` means none are left
   * parked.
   */
  unpark(
    owner: string,
    endpointId: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<{ taken: number; tasks: ClaimedTask[] }>;
  /** On start-up of a single-writer backend: every lease belongs to a dead process, make them due now. */
  releaseLeases(now: number): Promise<number>;
}

/** A message queued for an ordered destination, as its batch carries it. */
export interface OrderedEvent {
  /** Its place in the destination's queue: commit order, from 1. */
  seq: number;
  msgId: string;
  eventType: string;
  /** null once expunged. */
  payload: string | null;
  createdAt: number;
}

/**
 * An ordered destination leased to one worker: until the lease ends (or is finished) no other worker
 * sends it anything. `token` fences the lease: a finish naming an older token changes nothing.
 */
export interface OrderedLease {
  endpointId: string;
  owner: string;
  token: number;
  /** When the lease lapses: the worker must have finished sending by then. */
  until: number;
  /** Failed attempts of the head batch so far (0: it was never attempted, or was acked). */
  attempts: number;
}

/** How a leased ordered destination's turn ended; storage applies it only while the lease holds. */
export type OrderedFinish =
  /** The batch up to `through` was acknowledged by the receiver. */
  | { kind: 'acked'; attempt: AttemptRecord; through: OrderedEvent }
  /** The batch failed: retried (with whatever queued behind it) at `at`. */
  | { kind: 'retry'; attempt: AttemptRecord; at: number; failure: string }
  /** The batch failed and its retries are exhausted: nothing is sent until skip or force-retry. */
  | { kind: 'stopped'; attempt: AttemptRecord; failure: string }
  /**
   * The batch is not full yet: due at `until` (its maxWaitSecs) unless it fills first. `batchSize`
   * makes it full: messages queued during the turn (their ingest left the leased row's due time alone)
   * that fill it make it due at once instead.
   */
  | { kind: 'wait'; until: number; batchSize: number }
  /**
   * Nothing was sent (nothing queued, or too little lease left): due at `retryAt` (default now) if
   * anything is still queued, else idle.
   */
  | { kind: 'release'; retryAt?: number };

/** An ordered destination's position, for the API (`next-event`, `last-acked-event`, status). */
export interface OrderedPosition {
  /** Messages queued and not yet acknowledged or skipped. */
  queued: number;
  next: OrderedEvent | undefined;
  lastAcked: OrderedEvent | undefined;
  /** Failed attempts of the head batch. */
  attempts: number;
  failure: string | null;
  /** Due time (retry time while retrying); null when idle or stopped. */
  nextAttemptAt: number | null;
}

/** `skip`'s answer: how many were skipped, or that the message named is not queued. */
export type SkipResult = { kind: 'skipped'; count: number } | { kind: 'not_queued' };

/**
 * Ordered delivery (fifoEndpoint destinations): a queue per destination in commit order, and one lease
 * per destination, so one worker of the fleet at a time sends its oldest unacknowledged batch. The
 * state machine is storage/sql/ordered-transitions.ts.
 */
export interface OrderedStore {
  /** Leases up to `limit` due, enabled ordered destinations for `owner` until `now + leaseMs`. */
  claim(owner: string, limit: number, now: number, leaseMs: number): Promise<OrderedLease[]>;
  /** The destination's oldest `limit` queued messages, oldest first. */
  read(endpointId: string, limit: number): Promise<OrderedEvent[]>;
  /**
   * Applies `finish` if `lease` still holds (false: it lapsed and may belong to another worker; only
   * the attempt is recorded). An ack is durable before this resolves. Other processes' ordered loops
   * hear when the destination is due again; the caller's own loop claims again by itself.
   */
  finish(lease: OrderedLease, finish: OrderedFinish, now: number): Promise<boolean>;
  /** Earliest due time (or lease end) of an enabled ordered destination, for the loop's sleep. */
  nextDueAt(): Promise<number | null>;
  /** On start-up of a single-writer backend: every lease belongs to a dead process, make them due now. */
  releaseLeases(now: number): Promise<number>;
  position(endpointId: string): Promise<OrderedPosition>;
  /**
   * Moves the position past `throughMsgId` (queued), or past the oldest `count` queued messages, and
   * restarts the retry schedule. A batch in flight still ends; what follows starts after the skip.
   */
  skip(endpointId: string, through: { msgId: string } | { count: number }, now: number): Promise<SkipResult>;
  /** Makes the head batch due now with a fresh retry schedule. False: nothing queued, or a batch is in flight. */
  forceRetry(endpointId: string, now: number): Promise<boolean>;
}

export interface AttemptStore {
  get(appId: string, msgId: string, attemptId: string): Promise<AttemptRecord | undefined>;
  /** Newest first by default. */
  listByMessage(
    appId: string,
    msgId: string,
    filter: AttemptListFilter,
    page: PageQuery,
  ): Promise<Page<AttemptRecord>>;
  listByEndpoint(
    appId: string,
    endpointId: string,
    filter: AttemptListFilter,
    page: PageQuery,
  ): Promise<Page<AttemptRecord>>;
  /** Replaces the recorded response body with an empty string. */
  expungeResponse(appId: string, msgId: string, attemptId: string): Promise<boolean>;
}

/** What a manual resend did (`ReplayStore.resend`). */
export type ResendResult =
  /** The delivery is due now: created, re-queued when final, or brought forward when queued, held or parked. */
  | 'queued'
  /**
   * The delivery is leased: a worker is attempting it (or holds it in its local queue, about to), so
   * that attempt is the resend and nothing was changed. A parked delivery is not in flight.
   */
  | 'in_flight'
  /** The message or the endpoint does not exist in that application. */
  | 'missing';

/**
 * Manual re-delivery that is safe to repeat. A delivery that is already queued (pending or sending)
 * or leased is never queued a second time, so calling any of these twice before the first call's
 * deliveries went out sends each message once.
 */
export interface ReplayStore {
  /**
   * One message to one endpoint, now. Creates the delivery when the message never fanned out to the
   * endpoint; re-queues a final one (success or fail) as pending; makes a queued, held or parked one due
   * now; leaves a leased one alone.
   */
  resend(appId: string, msgId: string, endpointId: string, now: number): Promise<ResendResult>;
  /**
   * Every delivery of the endpoint created in [since, until) whose status is final (success or fail)
   * becomes pending, due now; unfinished ones are left as they are. Works in short transactions
   * (`batchSize` rows each) so a large range never holds the database. Returns how many were re-queued.
   */
  replayEndpoint(
    endpointId: string,
    since: number,
    until: number,
    now: number,
    batchSize?: number,
  ): Promise<number>;
}

/**
 * Retention: bounded batches, each its own short transaction, safe to run from several processes at
 * once (rows another process is purging are skipped, and purging twice changes nothing).
 */
export interface RetentionStore {
  /** Drops the payload of up to `limit` messages whose `payloadExpiresAt` is <= `now`. Returns how many. */
  purgeExpiredPayloads(now: number, limit: number): Promise<number>;
  /** Empties the response body of up to `limit` attempts created before `cutoff`. Returns how many. */
  purgeResponsesBefore(cutoff: number, limit: number): Promise<number>;
  /**
   * Where messages, deliveries and attempts are partitioned by time (PostgreSQL): creates the
   * partitions the days ahead of `now` need and, with `keepMs`, drops every partition wholly older than
   * `now - keepMs` with its deliveries and attempts. One process at a time does it (others return
   * zeros at once); a partition it cannot lock quickly is left for the next call. Zeros elsewhere.
   */
  maintainPartitions(now: number, keepMs: number | undefined): Promise<PartitionReport>;
  /**
   * Deletes up to `limit` messages created before `cutoff`, with their deliveries and attempts, that
   * no partition drop removes: every such message on SQLite, on PostgreSQL only those in the history
   * and default partitions. Returns how many messages.
   */
  purgeMessagesBefore(cutoff: number, limit: number): Promise<number>;
}

/** What one `maintainPartitions` call did: partitions (of each of the three tables) made and dropped. */
export interface PartitionReport {
  created: number;
  dropped: number;
}

export interface IdempotencyStore {
  /**
   * Claims the key for a new request: returns undefined when the caller now owns it, or the
   * existing record (finished or still running) otherwise.
   */
  begin(scope: string, key: string, fingerprint: string, now: number): Promise<IdempotencyRecord | undefined>;
  finish(scope: string, key: string, statusCode: number, body: string): Promise<void>;
  /** Releases a key whose request failed without a response worth replaying. */
  abandon(scope: string, key: string): Promise<void>;
  purgeOlderThan(cutoff: number): Promise<number>;
}

/** One minute (or the sum of a range) of the stats rollup (migration 0006). */
export interface StatsPoint {
  /** Start of the minute, ms since the epoch. */
  minute: number;
  succeeded: number;
  failed: number;
  /** Sum of the response times of every attempt counted. */
  durationMsSum: number;
  /** Successful attempts by accepted-to-delivered latency, bucketed as `domain/latency-histogram.ts`. */
  latency: number[];
}

export interface EndpointStatsSummary extends Omit<StatsPoint, 'minute'> {
  endpointId: string;
  lastAttemptAt: number | null;
}

/** An endpoint an operator should look at: failing since, circuit open since, or disabled at `since`. */
export interface EndpointAlert {
  appId: string;
  endpointId: string;
  url: string;
  since: number | null;
}

export interface StatsStore {
  /**
   * Sums in [since, until) for one endpoint, one application, or (empty scope) everything, one point
   * per interval of `intervalMs` (a whole number of minutes, default one; intervals start at multiples
   * of it since the epoch, and `minute` is that start). Only intervals with attempts are returned.
   */
  series(
    scope: { appId?: string; endpointId?: string },
    since: number,
    until: number,
    intervalMs?: number,
  ): Promise<StatsPoint[]>;
  /** The sums of every endpoint in [since, until), one total (what `series({})` adds up, read cheaper). */
  totals(since: number, until: number): Promise<Omit<StatsPoint, 'minute'>>;
  /** Sums in [since, until) per endpoint of an application (endpoints without attempts are absent). */
  byEndpoint(appId: string, since: number, until: number): Promise<EndpointStatsSummary[]>;
  /**
   * Unfinished deliveries due now, and those waiting for a scheduled retry, each counted up to `limit`
   * (a count of `limit` means at least that many): an outage's backlog must not make the count cost
   * a read of every queued row.
   */
  backlog(now: number, limit: number): Promise<{ due: number; scheduledRetries: number }>;
  /** At most `limit` of each: failing endpoints, open circuits, disabled endpoints. */
  attention(
    limit: number,
  ): Promise<{ failing: EndpointAlert[]; openCircuits: EndpointAlert[]; disabled: EndpointAlert[] }>;
  /** Deletes at most `limit` rollup rows of minutes before `cutoff`; returns how many. */
  purgeBefore(cutoff: number, limit: number): Promise<number>;
}

export interface ExploreFilter extends TimeRange {
  appId?: string | undefined;
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  /** Messages with at least one delivery in this status. */
  status?: MessageStatus | undefined;
}

/** How many candidate messages one explorer page examines at most when a filter is not an index walk. */
export const EXPLORE_SCAN_LIMIT = 10_000;

export interface ExplorePage extends Page<MessageRecord> {
  /**
   * Set when the page examined `EXPLORE_SCAN_LIMIT` candidates without filling up: the key the walk
   * stopped at, for the next page to continue from (`done` is then false; the page may even be empty).
   */
  stoppedAt?: string;
}

/** Operator reads across applications (dashboard explorer, live tail). */
export interface ExploreStore {
  /**
   * Newest first. The event-type, channel and status filters are checked on each candidate of the
   * walk (by id, or by application), so a page examines at most `EXPLORE_SCAN_LIMIT` of them: a rare
   * match costs a few more pages, never a scan of every message stored.
   */
  listMessages(filter: ExploreFilter, page: PageQuery): Promise<ExplorePage>;
  /** Messages whose id, or eventId in any application, is exactly this. */
  findMessages(idOrEventId: string, limit: number): Promise<MessageRecord[]>;
  /** Oldest first, ids greater than `afterId`. */
  messagesAfter(afterId: string, limit: number): Promise<MessageRecord[]>;
  attemptsAfter(afterId: string, limit: number): Promise<AttemptRecord[]>;
}

/** Where the unfinished deliveries stand, for the metrics gauges (observability/metrics.ts). */
export const CensusStates = ['pending', 'sending', 'leased', 'parked', 'held'] as const;
export type CensusState = (typeof CensusStates)[number];

/** Connections of a pooled backend (PostgreSQL); read from memory, free to call on every scrape. */
export interface PoolStats {
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** Counts for operators (the metrics gauges), read periodically, never per request. */
export interface CensusStore {
  /**
   * Unfinished deliveries by state: pending (queued for a first attempt) and sending (queued for a
   * retry), each waiting for its due time or due; leased (claimed by a worker: in flight, queued in its memory, or a
   * lapsed lease not yet reclaimed); parked (leased to a worker whose queue for the endpoint is full);
   * held (endpoint disabled or circuit open). Reads every unfinished delivery through the due index:
   * its cost grows with the backlog.
   */
  countByState(): Promise<Record<CensusState, number>>;
  /** Endpoints whose circuit breaker is open (one row per endpoint at most). */
  circuitsOpen(): Promise<number>;
  /** Undefined for a backend without a connection pool (SQLite). */
  pool(): PoolStats | undefined;
}

export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Stores `value` unless the key has one; returns the stored value (the first writer's, in a race). */
  setIfAbsent(key: string, value: string): Promise<string>;
  delete(key: string): Promise<void>;
  /** Up to `limit` entries whose key starts with `prefix`, in key order, after `after` when given. */
  entries(prefix: string, limit: number, after?: string): Promise<{ key: string; value: string }[]>;
}

export type BackgroundTaskStatus = 'running' | 'finished' | 'failed';

/** A long operation started by the API (bulk replay, replay missing, expunge all contents, recover). */
export interface BackgroundTaskRecord {
  id: string;
  /** Svix's BackgroundTaskType, e.g. `endpoint.bulk-replay`. */
  task: string;
  status: BackgroundTaskStatus;
  /** What the task reports: its inputs and, once finished, its result (e.g. `{"replayed": 12}`). */
  data: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface BackgroundTaskStore {
  create(record: BackgroundTaskRecord): Promise<BackgroundTaskRecord>;
  /** Records the outcome; returns false when the task is missing. */
  finish(
    id: string,
    status: BackgroundTaskStatus,
    data: Record<string, unknown>,
    now: number,
  ): Promise<boolean>;
  get(id: string): Promise<BackgroundTaskRecord | undefined>;
  /** Newest first by default. */
  list(
    filter: { status?: BackgroundTaskStatus | undefined; task?: string | undefined },
    page: PageQuery,
  ): Promise<Page<BackgroundTaskRecord>>;
}

export interface BulkReplayFilter {
  since: number;
  until: number;
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
  /** Only deliveries in this final status (success or fail). */
  status?: MessageStatus | undefined;
  /** Only deliveries with an attempt whose response code is in this class (0 = no response). */
  statusCodeClass?: number | undefined;
}

/** Svix's bulk operations on many messages or deliveries at once. Each returns how many rows changed. */
export interface BulkOperationStore {
  /**
   * Re-queues the endpoint's finished deliveries (success and fail, as replay) created in
   * [since, until) that match the filter; queued and in-flight ones are left alone.
   */
  replayFiltered(endpointId: string, filter: BulkReplayFilter, now: number): Promise<number>;
  /**
   * Queues, due now, the messages of the application created in [since, until) that have no delivery
   * to the endpoint and match its event-type and channel filters (Svix's replay-missing).
   */
  replayMissing(
    appId: string,
    endpointId: string,
    since: number,
    until: number,
    now: number,
  ): Promise<number>;
  /**
   * Drops the payload of every message of the application, and cancels their deliveries still queued
   * (not leased): without a payload they can never be sent. Returns the messages purged.
   */
  expungeAppPayloads(appId: string): Promise<number>;
  /** The same for some messages (by id); returns the ids whose payload was dropped. */
  expungePayloads(appId: string, msgIds: readonly string[]): Promise<string[]>;
}

export interface Storage {
  readonly capabilities: StorageCapabilities;
  /** Human-readable backend name for logs and health, e.g. `sqlite:/path/hookyard.db`. */
  readonly description: string;
  readonly applications: ApplicationStore;
  readonly eventTypes: EventTypeStore;
  readonly endpoints: EndpointStore;
  readonly messages: MessageStore;
  readonly deliveries: DeliveryStore;
  readonly ordered: OrderedStore;
  readonly attempts: AttemptStore;
  readonly idempotency: IdempotencyStore;
  readonly meta: MetaStore;
  readonly replay: ReplayStore;
  readonly retention: RetentionStore;
  readonly stats: StatsStore;
  readonly explore: ExploreStore;
  readonly backgroundTasks: BackgroundTaskStore;
  readonly bulk: BulkOperationStore;
  readonly census: CensusStore;
  readonly polling: PollingStore;
  /**
   * Listens for changes to applications, endpoints and event types (ours and, with `listenNotify`,
   * other processes'). The stores publish these themselves after every committed mutation.
   * Returns an unsubscribe function.
   */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  /**
   * Listens for new due work: called after ingest, resend or recover commits (in this process or,
   * with `listenNotify`, another). Dispatchers wake on it instead of polling. Returns an unsubscribe.
   */
  subscribeWork(listener: () => void): () => void;
  /**
   * Makes `taker` the one that ingest hands new due deliveries to (IngestTaker), in place of any
   * earlier one; the returned function unregisters it. Without a taker, ingest leaves them all to claims.
   */
  takeIngested(taker: IngestTaker): () => void;
  /**
   * The same for ordered destinations (fifoEndpoint): messages queued for them, an ack with more
   * queued, skip, force-retry. Only these wake the ordered loop, and they never wake `subscribeWork`'s.
   */
  subscribeOrderedWork(listener: () => void): () => void;
  /**
   * Resolves when the database answers a trivial query and can take writes; rejects otherwise
   * (`StorageFull` while the disk is full).
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A uid (or event type name) that is already taken. */
export class UniqueViolation extends Error {
  override name = 'UniqueViolation';
}

/** The database cannot be reached; the API turns this into 503 `storage_unavailable`. */
export class StorageUnavailable extends Error {
  override name = 'StorageUnavailable';
}

/**
 * The database's disk is full: the write was not made. The API turns this into 507 `storage_full`;
 * it clears by itself once space is freed (see sqlite/disk-reserve.ts).
 */
export class StorageFull extends StorageUnavailable {
  override name = 'StorageFull';
}

/** The database was migrated by a newer Hookyard than this one. */
export class SchemaTooNew extends Error {
  override name = 'SchemaTooNew';
}
