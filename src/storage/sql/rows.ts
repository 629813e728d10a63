import type { PayloadFilter } from '../../domain/payload-filter.ts';
import type {
  ApplicationRecord,
  AttemptRecord,
  DeliveryRecord,
  EndpointEgress,
  EndpointRecord,
  EventTypeRecord,
  MessageRecord,
  MessageStatus,
  TriggerType,
} from '../contract.ts';
import type { Sealer } from '../sealing.ts';
import type { SqlValue } from './driver.ts';

/**
 * Row shapes as both backends return them (integers as numbers, JSON as text, booleans as 0/1) and the
 * mapping to contract records. Column lists live here so joins can select two tables under prefixes.
 */
export interface ApplicationRow {
  id: string;
  uid: string | null;
  name: string;
  throttle_rate: number | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface EventTypeRow {
  name: string;
  description: string;
  archived: number;
  deprecated: number;
  feature_flag: string | null;
  schemas: string | null;
  created_at: number;
  updated_at: number;
}

export interface EndpointRow {
  id: string;
  app_id: string;
  uid: string | null;
  url: string;
  description: string;
  disabled: number;
  event_types: string | null;
  channels: string | null;
  throttle_rate: number | null;
  metadata: string;
  headers: string;
  secrets: string;
  filter: string | null;
  created_at: number;
  updated_at: number;
  kind: string;
  config: string | null;
  egress: string | null;
}

export interface MessageRow {
  id: string;
  app_id: string;
  uid: string | null;
  event_type: string;
  channels: string | null;
  payload: string | null;
  payload_expires_at: number;
  created_at: number;
  tags: string | null;
  deliver_at: number | null;
  trace_context: string | null;
}

export interface DeliveryRow {
  id: string;
  app_id: string;
  msg_id: string;
  endpoint_id: string;
  status: number;
  attempts: number;
  next_attempt_at: number | null;
  trigger_type: number;
  lease_owner: string | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  id: string;
  app_id: string;
  msg_id: string;
  endpoint_id: string;
  delivery_id: string;
  url: string;
  status: number;
  response_status_code: number;
  response: string;
  response_duration_ms: number;
  trigger_type: number;
  created_at: number;
  last_msg_id: string | null;
  num_events: number | null;
  response_headers: string | null;
}

export const columns = {
  applications: ['id', 'uid', 'name', 'throttle_rate', 'metadata', 'created_at', 'updated_at'],
  eventTypes: [
    'name',
    'description',
    'archived',
    'deprecated',
    'feature_flag',
    'schemas',
    'created_at',
    'updated_at',
  ],
  endpoints: [
    'id',
    'app_id',
    'uid',
    'url',
    'description',
    'disabled',
    'event_types',
    'channels',
    'throttle_rate',
    'metadata',
    'headers',
    'secrets',
    'created_at',
    'updated_at',
    'filter',
    'kind',
    'config',
    'egress',
  ],
  messages: [
    'id',
    'app_id',
    'uid',
    'event_type',
    'channels',
    'payload',
    'payload_expires_at',
    'created_at',
    'tags',
    'deliver_at',
    'trace_context',
  ],
  deliveries: [
    'id',
    'app_id',
    'msg_id',
    'endpoint_id',
    'status',
    'attempts',
    'next_attempt_at',
    'trigger_type',
    'lease_owner',
    'created_at',
    'updated_at',
  ],
  attempts: [
    'id',
    'app_id',
    'msg_id',
    'endpoint_id',
    'delivery_id',
    'url',
    'status',
    'response_status_code',
    'response',
    'response_duration_ms',
    'trigger_type',
    'created_at',
    'last_msg_id',
    'num_events',
    'response_headers',
  ],
} as const;

/** `e.id AS e__id, …`: selects a joined table's columns under a prefix that `unprefix` strips again. */
export function prefixed(alias: string, names: readonly string[]): string {
  return names.map((name) => `${alias}.${name} AS ${alias}__${name}`).join(', ');
}

export function qualified(alias: string, names: readonly string[]): string {
  return names.map((name) => `${alias}.${name}`).join(', ');
}

export function unprefix<T>(row: Record<string, unknown>, alias: string): T {
  const out: Record<string, unknown> = {};
  const start = `${alias}__`;
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(start)) out[key.slice(start.length)] = value;
  }
  return out as T;
}

function json<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export function bool(value: boolean): number {
  return value ? 1 : 0;
}

export function toApplication(row: ApplicationRow): ApplicationRecord {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    throttleRate: row.throttle_rate,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function applicationValues(record: ApplicationRecord): SqlValue[] {
  return [
    record.id,
    record.uid,
    record.name,
    record.throttleRate,
    JSON.stringify(record.metadata),
    record.createdAt,
    record.updatedAt,
  ];
}

export function toEventType(row: EventTypeRow): EventTypeRecord {
  return {
    name: row.name,
    description: row.description,
    archived: row.archived !== 0,
    deprecated: row.deprecated !== 0,
    featureFlag: row.feature_flag,
    schemas: json<Record<string, unknown>>(row.schemas),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function eventTypeValues(record: EventTypeRecord): SqlValue[] {
  return [
    record.name,
    record.description,
    bool(record.archived),
    bool(record.deprecated),
    record.featureFlag,
    jsonOrNull(record.schemas),
    record.createdAt,
    record.updatedAt,
  ];
}

/**
 * The endpoint columns that may carry credentials, encrypted at rest when a key is set (sealing.ts).
 * Opened here, once per row read: what the endpoint cache and fan-out hold is plaintext in memory.
 */
export const SEALED_ENDPOINT_COLUMNS = ['secrets', 'config', 'egress'] as const;

export function toEndpoint(row: EndpointRow, sealer: Sealer): EndpointRecord {
  return {
    id: row.id,
    appId: row.app_id,
    uid: row.uid,
    url: row.url,
    description: row.description,
    disabled: row.disabled !== 0,
    eventTypes: json<string[]>(row.event_types),
    channels: json<string[]>(row.channels),
    throttleRate: row.throttle_rate,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    headers: JSON.parse(row.headers) as Record<string, string>,
    secrets: JSON.parse(sealer.open(row.secrets, 'secrets')) as EndpointRecord['secrets'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    // Absent rather than null when there is none, so records without the field round-trip unchanged.
    ...(row.filter === null ? {} : { filter: JSON.parse(row.filter) as PayloadFilter }),
    // Absent for an HTTP endpoint, so its record round-trips unchanged.
    ...(row.kind === 'http'
      ? {}
      : {
          destination: {
            type: row.kind,
            config: JSON.parse(row.config === null ? '{}' : sealer.open(row.config, 'config')) as Record<
              string,
              unknown
            >,
          },
        }),
    ...(row.egress == null
      ? {}
      : { egress: JSON.parse(sealer.open(row.egress, 'egress')) as EndpointEgress }),
  };
}

export function endpointValues(record: EndpointRecord, sealer: Sealer): SqlValue[] {
  return [
    record.id,
    record.appId,
    record.uid,
    record.url,
    record.description,
    bool(record.disabled),
    jsonOrNull(record.eventTypes),
    jsonOrNull(record.channels),
    record.throttleRate,
    JSON.stringify(record.metadata),
    JSON.stringify(record.headers),
    sealer.seal(JSON.stringify(record.secrets), 'secrets'),
    record.createdAt,
    record.updatedAt,
    jsonOrNull(record.filter ?? null),
    record.destination?.type ?? 'http',
    record.destination ? sealer.seal(JSON.stringify(record.destination.config), 'config') : null,
    record.egress ? sealer.seal(JSON.stringify(record.egress), 'egress') : null,
  ];
}

export function toMessage(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    appId: row.app_id,
    uid: row.uid,
    eventType: row.event_type,
    channels: json<string[]>(row.channels),
    payload: row.payload,
    payloadExpiresAt: row.payload_expires_at,
    createdAt: row.created_at,
    // Only when set, so a record read back equals the one written without them.
    ...(row.tags != null ? { tags: json<string[]>(row.tags) } : {}),
    ...(row.deliver_at != null ? { deliverAt: Number(row.deliver_at) } : {}),
    ...(row.trace_context != null ? { traceContext: row.trace_context } : {}),
  };
}

export function messageValues(record: MessageRecord): SqlValue[] {
  return [
    record.id,
    record.appId,
    record.uid,
    record.eventType,
    jsonOrNull(record.channels),
    record.payload,
    record.payloadExpiresAt,
    record.createdAt,
    jsonOrNull(record.tags ?? null),
    record.deliverAt ?? null,
    record.traceContext ?? null,
  ];
}

export function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    appId: row.app_id,
    msgId: row.msg_id,
    endpointId: row.endpoint_id,
    status: row.status as MessageStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toAttempt(row: AttemptRow): AttemptRecord {
  return {
    id: row.id,
    appId: row.app_id,
    msgId: row.msg_id,
    endpointId: row.endpoint_id,
    deliveryId: row.delivery_id,
    url: row.url,
    status: row.status as MessageStatus,
    responseStatusCode: row.response_status_code,
    response: row.response,
    ...(row.response_headers != null ? { responseHeaders: JSON.parse(row.response_headers) } : {}),
    responseDurationMs: row.response_duration_ms,
    triggerType: row.trigger_type as TriggerType,
    createdAt: row.created_at,
    // Only on a batch attempt of an ordered destination, so other records round-trip unchanged.
    ...(row.last_msg_id != null
      ? { batch: { lastMsgId: row.last_msg_id, numEvents: Number(row.num_events ?? 1) } }
      : {}),
  };
}

export function attemptValues(record: AttemptRecord): SqlValue[] {
  return [
    record.id,
    record.appId,
    record.msgId,
    record.endpointId,
    record.deliveryId,
    record.url,
    record.status,
    record.responseStatusCode,
    record.response,
    record.responseDurationMs,
    record.triggerType,
    record.createdAt,
    responseHeadersValue(record),
  ];
}

/** The attempts.response_headers column: JSON, or NULL without an HTTP response. */
export function responseHeadersValue(record: AttemptRecord): string | null {
  return record.responseHeaders ? JSON.stringify(record.responseHeaders) : null;
}
