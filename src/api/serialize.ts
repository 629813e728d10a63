import {
  type ApplicationRecord,
  type AttemptRecord,
  type DeliveryRecord,
  type EndpointRecord,
  type EventTypeRecord,
  type MessageRecord,
  MessageStatus,
  statusText,
} from '../storage/contract.ts';
import { egressOut } from './use-cases/egress.ts';

/** Storage records → the Svix JSON shapes. Times are ISO strings; ids are ours, uids the caller's. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function applicationOut(app: ApplicationRecord) {
  return {
    id: app.id,
    uid: app.uid,
    name: app.name,
    throttleRate: app.throttleRate,
    rateLimit: app.throttleRate,
    metadata: app.metadata,
    createdAt: iso(app.createdAt),
    updatedAt: iso(app.updatedAt),
  };
}

export function eventTypeOut(eventType: EventTypeRecord, withContent = true) {
  return {
    name: eventType.name,
    description: eventType.description,
    archived: eventType.archived,
    deprecated: eventType.deprecated,
    featureFlag: eventType.featureFlag,
    ...(withContent ? { schemas: eventType.schemas } : {}),
    createdAt: iso(eventType.createdAt),
    updatedAt: iso(eventType.updatedAt),
  };
}

function endpointBase(endpoint: EndpointRecord) {
  return {
    id: endpoint.id,
    uid: endpoint.uid,
    url: endpoint.url,
    description: endpoint.description,
    disabled: endpoint.disabled,
    eventTypes: endpoint.eventTypes,
    filterTypes: endpoint.eventTypes,
    channels: endpoint.channels,
    throttleRate: endpoint.throttleRate,
    rateLimit: endpoint.throttleRate,
    version: 1,
    createdAt: iso(endpoint.createdAt),
    updatedAt: iso(endpoint.updatedAt),
  };
}

export function endpointOut(endpoint: EndpointRecord) {
  return {
    ...endpointBase(endpoint),
    metadata: endpoint.metadata,
    filter: endpoint.filter ?? null,
    egress: egressOut(endpoint.egress),
  };
}

/**
 * The status a client is shown. `canceled` (4) only when it asked for `expanded_statuses` (the 2.x SDKs
 * do); older clients see it as success (0), as Svix shows it for backwards compatibility.
 */
export function shownStatus(status: MessageStatus, expanded: boolean): MessageStatus {
  return !expanded && status === MessageStatus.canceled ? MessageStatus.success : status;
}

export function messageEndpointOut(delivery: DeliveryRecord, endpoint: EndpointRecord, expanded = false) {
  const status = shownStatus(delivery.status, expanded);
  return {
    ...endpointBase(endpoint),
    status,
    statusText: statusText[status],
    nextAttempt: delivery.nextAttemptAt === null ? null : iso(delivery.nextAttemptAt),
  };
}

/** What an expunged or expired payload reads as (as Svix shows it). */
const EXPUNGED_PAYLOAD = '{"expired":true}';

/**
 * MessageOut as JSON text. The payload is spliced in as stored, never parsed and re-serialized: it is
 * already the exact JSON text that is delivered, and payloads can be large.
 */
export function messageOutJson(message: MessageRecord, withContent: boolean, extra: object = {}): string {
  const head = JSON.stringify({
    id: message.id,
    eventId: message.uid,
    eventType: message.eventType,
    channels: message.channels,
    timestamp: iso(message.createdAt),
    ...(message.tags ? { tags: message.tags } : {}),
    ...(message.deliverAt != null ? { deliverAt: iso(message.deliverAt) } : {}),
    ...extra,
  });
  const payload = withContent ? (message.payload ?? EXPUNGED_PAYLOAD) : '{}';
  return `${head.slice(0, -1)},"payload":${payload}}`;
}

export function endpointMessageOutJson(
  delivery: DeliveryRecord,
  message: MessageRecord,
  withContent: boolean,
  expanded = false,
): string {
  const status = shownStatus(delivery.status, expanded);
  return messageOutJson(message, withContent, {
    status,
    statusText: statusText[status],
    nextAttempt: delivery.nextAttemptAt === null ? null : iso(delivery.nextAttemptAt),
  });
}

export function attemptOut(attempt: AttemptRecord, withContent: boolean, expanded = false) {
  const status = shownStatus(attempt.status, expanded);
  return {
    id: attempt.id,
    msgId: attempt.msgId,
    endpointId: attempt.endpointId,
    url: attempt.url,
    status,
    statusText: statusText[status],
    response: withContent ? attempt.response : '',
    responseStatusCode: attempt.responseStatusCode,
    responseDurationMs: attempt.responseDurationMs,
    triggerType: attempt.triggerType,
    timestamp: iso(attempt.createdAt),
  };
}

/** A list body `{data, iterator, prevIterator, done}` whose items are already JSON text. */
export function listJson(
  items: readonly string[],
  cursor: { iterator: string | null; prevIterator: string | null; done: boolean },
  /** Fields a Hookyard list adds after Svix's four (the explorer's `partial`). */
  extra: Readonly<Record<string, unknown>> = {},
): string {
  const more = Object.entries(extra)
    .map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`)
    .join('');
  return `{"data":[${items.join(',')}],"iterator":${JSON.stringify(cursor.iterator)},"prevIterator":${JSON.stringify(cursor.prevIterator)},"done":${cursor.done}${more}}`;
}
