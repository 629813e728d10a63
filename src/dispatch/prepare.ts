import type { Config } from '../config/settings.ts';
import type { OutboundMessage } from '../delivery/destination.ts';
import { requestHeaders } from '../delivery/request-headers.ts';
import { toError } from '../errors/coerce.ts';
import type { ClaimedTask, EndpointRecord } from '../storage/contract.ts';

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
    const headers = requestHeaders(
      endpoint,
      task.msgId,
      Math.floor(now / 1000),
      task.payload,
      now,
      signatureHeaders,
    );
    return {
      kind: 'ready',
      endpoint,
      message: {
        msgId: task.msgId,
        eventType: task.eventType,
        body: task.payload,
        headers,
        ...(task.traceContext !== undefined ? { traceContext: task.traceContext } : {}),
      },
    };
  } catch (error) {
    return { kind: 'unsendable', url: endpoint.url, reason: toError(error).message, retryable: true };
  }
}
