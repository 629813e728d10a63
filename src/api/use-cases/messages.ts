import { DEFAULT_PAYLOAD_RETENTION_MS } from '../../config/settings.ts';
import { fanOut } from '../../domain/filter.ts';
import { newId } from '../../domain/ids.ts';
import { orderedBatching } from '../../domain/ordered-batch.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { ApplicationRecord, MessageRecord, OrderedTarget } from '../../storage/contract.ts';
import type { ApiContext } from '../context.ts';
import { isPushed } from './destination-config.ts';
import { trackIngest } from './polling.ts';

/** Ingesting a message, shared by `POST /app/{app}/msg` and the endpoint routes that send one. */

export interface NewMessageInput {
  eventType: string;
  /** The payload as the JSON text that will be delivered. */
  payload: string;
  channels: string[] | null;
  uid: string | null;
  retentionMs: number | undefined;
  /** The endpoints it goes to; undefined = fan out by the application's endpoint filters. */
  endpointIds: string[] | undefined;
  /** The request's W3C `traceparent` header: the ingest span continues it when tracing is on. */
  traceparent?: string | string[] | undefined;
  tags?: string[] | null | undefined;
  /** First attempt not before this time (scheduled delivery). */
  deliverAt?: number | undefined;
}

/**
 * Stores a message and its deliveries durably and returns it. A duplicate `eventId` in the application
 * is a 409 conflict, as Svix answers; retrying one request safely is what `idempotency-key` is for.
 */
export function ingestMessage(
  ctx: ApiContext,
  app: ApplicationRecord,
  input: NewMessageInput,
): Promise<MessageRecord> {
  if (!ctx.tracing) return ingest(ctx, app, input, undefined);
  const caller = Array.isArray(input.traceparent) ? input.traceparent[0] : input.traceparent;
  return ctx.tracing.traceIngest(caller, app.id, (traceContext) => ingest(ctx, app, input, traceContext));
}

async function ingest(
  ctx: ApiContext,
  app: ApplicationRecord,
  input: NewMessageInput,
  traceContext: string | undefined,
): Promise<MessageRecord> {
  if (Buffer.byteLength(input.payload) > ctx.config.maxPayloadBytes) {
    throw new ApiError(
      'payload_too_large',
      `The payload is ${Buffer.byteLength(input.payload)} bytes of JSON; this server accepts at most ${ctx.config.maxPayloadBytes}.`,
    );
  }
  const now = ctx.clock();
  let endpointIds = input.endpointIds;
  // Ordered destinations (fifoEndpoint, a broker destination with batching) queue the message in their
  // own order instead of a delivery; polling endpoints get no deliveries: their consumers read the
  // messages themselves (polling.ts).
  const ordered: OrderedTarget[] = [];
  if (!endpointIds) {
    endpointIds = [];
    for (const endpoint of fanOut(await ctx.endpoints.forApp(app.id), input)) {
      if (!isPushed(endpoint)) continue;
      const batching = orderedBatching(endpoint.destination);
      if (!batching) endpointIds.push(endpoint.id);
      else ordered.push({ endpointId: endpoint.id, batchSize: batching.batchSize });
    }
  }
  const message: MessageRecord = {
    id: newId('message', now),
    appId: app.id,
    uid: input.uid,
    eventType: input.eventType,
    channels: input.channels,
    payload: input.payload,
    payloadExpiresAt: now + (input.retentionMs ?? DEFAULT_PAYLOAD_RETENTION_MS),
    createdAt: now,
    ...(traceContext !== undefined ? { traceContext } : {}),
    ...(input.tags ? { tags: input.tags } : {}),
    // A time already past is "at once": the delivery is simply due now.
    ...(input.deliverAt !== undefined && input.deliverAt > now ? { deliverAt: input.deliverAt } : {}),
  };
  // Pollers read no message above one still committing (polling.ts); nothing awaits since newId.
  const settled = trackIngest(ctx.storage, message.id);
  let result: Awaited<ReturnType<typeof ctx.storage.messages.ingest>>;
  try {
    result = await ctx.storage.messages.ingest({
      message,
      endpointIds,
      ...(ordered.length > 0 ? { ordered } : {}),
    });
  } finally {
    settled();
  }
  if (result.kind === 'duplicate') {
    throw new ApiError('conflict', `A message with eventId ${input.uid} already exists in this application.`);
  }
  return result.message;
}
