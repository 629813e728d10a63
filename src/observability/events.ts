import { channel } from 'node:diagnostics_channel';

/**
 * What Hookyard tells observers about its work, as typed `node:diagnostics_channel` channels. The
 * dispatcher, storage and the delivery layer publish; metrics (observability/metrics.ts), tests and any
 * other tool subscribe, in process, by channel name (`hookyard:attempt.finished`, ...).
 *
 * Publishing costs nothing when nobody listens: every producer checks `hasSubscribers` before it even
 * builds the payload. Events say what already happened (after the commit, after the response), never
 * ask for anything back, and a subscriber that throws is reported by Node without disturbing the
 * producer. Payloads carry ids for tracing and logs; metrics keep only bounded labels of them.
 */
export interface TypedChannel<T> {
  readonly name: string | symbol;
  readonly hasSubscribers: boolean;
  publish(message: T): void;
  subscribe(listener: (message: T) => void): void;
  unsubscribe(listener: (message: T) => void): boolean;
}

/** A message and its deliveries were committed (not a duplicate `eventId`). */
export interface MessageIngested {
  readonly appId: string;
  readonly msgId: string;
  /** Deliveries created: the endpoints it fans out to. */
  readonly deliveries: number;
}

/** One claim transaction handed the dispatcher its tasks. */
export interface TasksClaimed {
  readonly count: number;
  /** Claimed but parked at once: their endpoint is saturated in this process. */
  readonly parked: number;
  readonly durationMs: number;
  /** A claim transaction, or ingest's hand-off (new deliveries leased in the ingest transaction). */
  readonly via: 'claim' | 'ingest';
}

/** How an attempt left its delivery: delivered, to be retried, or failed for good. */
export type AttemptResult = 'success' | 'retry' | 'fail';
/** The receiver's status code by hundreds; `none` when it gave none (no response, or not HTTP). */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'none';

/** An attempt's outcome was committed. */
export interface AttemptFinished {
  readonly appId: string;
  readonly msgId: string;
  readonly endpointId: string;
  readonly deliveryId: string;
  readonly result: AttemptResult;
  readonly statusCode: number;
  readonly statusClass: StatusClass;
  /** Time spent by the destination on the attempt. */
  readonly durationMs: number;
  /** Accepted → delivered, on the success of a scheduled (not a manually resent) delivery. */
  readonly latencyMs: number | undefined;
}

/** A group commit wrote one transaction. */
export interface CommitBatch {
  /** What was committed: `ingest` (messages) or `completion` (attempt outcomes). */
  readonly kind: string;
  /** Submissions in the transaction. */
  readonly size: number;
  readonly durationMs: number;
}

/** SQLite: one fsync of the WAL file (shared by every durable commit waiting for it). */
export interface WalFsync {
  readonly durationMs: number;
}

/** An endpoint's circuit breaker changed (delivery-policies.md). */
export interface CircuitChanged {
  readonly endpointId: string;
  readonly circuit: 'open' | 'closed';
}

/** An endpoint was disabled by its failures (410, or failing for HOOKYARD_DISABLE_AFTER). */
export interface EndpointDisabled {
  readonly appId: string;
  readonly endpointId: string;
  readonly failSince: number;
}

function typed<T>(name: string): TypedChannel<T> {
  // Node's Channel publishes `unknown`; the only publishers are the typed ones below.
  return channel(name) as unknown as TypedChannel<T>;
}

export const events = {
  messageIngested: typed<MessageIngested>('hookyard:message.ingested'),
  tasksClaimed: typed<TasksClaimed>('hookyard:tasks.claimed'),
  attemptFinished: typed<AttemptFinished>('hookyard:attempt.finished'),
  commitBatch: typed<CommitBatch>('hookyard:commit.batch'),
  walFsync: typed<WalFsync>('hookyard:wal.fsync'),
  circuitChanged: typed<CircuitChanged>('hookyard:circuit.changed'),
  endpointDisabled: typed<EndpointDisabled>('hookyard:endpoint.disabled'),
} as const;

export function statusClassOf(statusCode: number): StatusClass {
  if (statusCode >= 100 && statusCode < 600) return `${Math.floor(statusCode / 100)}xx` as StatusClass;
  return 'none';
}
