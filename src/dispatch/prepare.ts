import type { Config } from '../config/settings.ts';
import type { OutboundMessage } from '../delivery/destination.ts';
import { headerProblem } from '../domain/endpoint-headers.ts';
import { toError } from '../errors/coerce.ts';
import { signatureHeader } from '../signing/sign.ts';
import type { ClaimedTask, EndpointRecord } from '../storage/contract.ts';
import { version } from '../version.ts';

/**
 * Prepare, the first step of an attempt: load the task's endpoint, sign the payload, build the headers.
 *
 *     task ──endpoint gone / payload expunged──► unsendable, final (the delivery fails: nothing can send it)
 *       │──no unexpired signing secret─────────► unsendable, retryable (rotating a secret in fixes it)
 *       └──────────────────────────────────────► ready: the endpoint and the signed message
 */
export type Prepared =
  | { readonly kind: 'ready'; readonly endpoint: EndpointRecord; readonly message: OutboundMessage }
  | {
      readonly kind: 'unsendable';
      /** The attempt record's `url`: empty when the endpoint is gone. */
      readonly url: string;
      readonly reason: string;
      readonly retryable: boolean;
    };

/** What the dispatcher needs of the endpoint cache. */
export interface EndpointLookup {
  get(endpointId: string): Promise<EndpointRecord | undefined> | EndpointRecord | undefined;
}

const USER_AGENT = `Hookyard/${version}`;

export async function prepare(
  task: ClaimedTask,
  endpoints: EndpointLookup,
  signatureHeaders: Config['signatureHeaders'],
  now: number,
): Promise<Prepared> {
  const endpoint = await endpoints.get(task.endpointId);
  if (!endpoint || endpoint.appId !== task.appId)
    return { kind: 'unsendable', url: '', reason: 'the endpoint was deleted', retryable: false };
  // No check of `endpoint.disabled` here: the claim read it from the database in the same
  // transaction that leased the task (and held the task if it was set), while this cache may lag.
  if (task.payload === null)
    return {
      kind: 'unsendable',
      url: endpoint.url,
      reason: 'the message payload was expunged',
      retryable: false,
    };
  try {
    const headers = buildHeaders(endpoint, task.msgId, task.payload, now, signatureHeaders);
    return {
      kind: 'ready',
      endpoint,
      message: { msgId: task.msgId, eventType: task.eventType, body: task.payload, headers },
    };
  } catch (error) {
    return { kind: 'unsendable', url: endpoint.url, reason: toError(error).message, retryable: true };
  }
}

function buildHeaders(
  endpoint: EndpointRecord,
  msgId: string,
  body: string,
  now: number,
  which: Config['signatureHeaders'],
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  // Stored headers were validated by the API; checking again keeps a hand-edited row from
  // overriding a signature header or breaking the request framing.
  for (const [name, value] of Object.entries(endpoint.headers)) {
    if (headerProblem(name, value) === undefined) headers[name.toLowerCase()] = value;
  }
  headers['content-type'] = 'application/json';
  const signature = signatureHeader(endpoint.secrets, msgId, timestamp, body, now);
  if (which !== 'svix') {
    headers['webhook-id'] = msgId;
    headers['webhook-timestamp'] = String(timestamp);
    headers['webhook-signature'] = signature;
  }
  if (which !== 'webhook') {
    headers['svix-id'] = msgId;
    headers['svix-timestamp'] = String(timestamp);
    headers['svix-signature'] = signature;
  }
  return headers;
}
