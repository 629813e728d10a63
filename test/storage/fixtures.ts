import { newId } from '../../src/domain/ids.ts';
import {
  type ApplicationRecord,
  type AttemptOutcome,
  type EndpointRecord,
  type MessageRecord,
  MessageStatus,
  type Storage,
  TriggerType,
} from '../../src/storage/contract.ts';

/** Record builders for the conformance suite: valid defaults, fields overridable. */
export function application(overrides: Partial<ApplicationRecord> = {}): ApplicationRecord {
  const now = overrides.createdAt ?? Date.now();
  return {
    id: newId('application', now),
    uid: null,
    name: 'Acme',
    throttleRate: null,
    metadata: {},
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function endpoint(appId: string, overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  const now = overrides.createdAt ?? Date.now();
  return {
    id: newId('endpoint', now),
    appId,
    uid: null,
    url: 'https://receiver.example/hook',
    description: '',
    disabled: false,
    eventTypes: null,
    channels: null,
    throttleRate: null,
    metadata: {},
    headers: {},
    secrets: [{ key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function message(appId: string, overrides: Partial<MessageRecord> = {}): MessageRecord {
  const now = overrides.createdAt ?? Date.now();
  return {
    id: newId('message', now),
    appId,
    uid: null,
    eventType: 'user.created',
    channels: null,
    payload: '{"hello":"world"}',
    payloadExpiresAt: now + 86_400_000,
    createdAt: now,
    ...overrides,
  };
}

export function outcome(
  task: { deliveryId: string; appId: string; msgId: string; endpointId: string },
  next: MessageStatus,
  options: { nextAttemptAt?: number | null; statusCode?: number; at?: number } = {},
): AttemptOutcome {
  const at = options.at ?? Date.now();
  return {
    attempt: {
      id: newId('attempt', at),
      appId: task.appId,
      msgId: task.msgId,
      endpointId: task.endpointId,
      deliveryId: task.deliveryId,
      url: 'https://receiver.example/hook',
      status: next === MessageStatus.success ? MessageStatus.success : MessageStatus.fail,
      responseStatusCode: options.statusCode ?? (next === MessageStatus.success ? 200 : 500),
      response: 'ok',
      responseDurationMs: 12,
      triggerType: TriggerType.scheduled,
      createdAt: at,
    },
    next,
    nextAttemptAt: options.nextAttemptAt ?? null,
  };
}

/** An application with `endpoints` endpoints, ready for ingest. */
export async function appWithEndpoints(
  storage: Storage,
  endpoints = 1,
): Promise<{ app: ApplicationRecord; endpoints: EndpointRecord[] }> {
  const app = await storage.applications.create(application());
  const list: EndpointRecord[] = [];
  for (let i = 0; i < endpoints; i++) list.push(await storage.endpoints.create(endpoint(app.id)));
  return { app, endpoints: list };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
