import { DEFAULT_PAYLOAD_RETENTION_MS } from '../../config/settings.ts';
import { fanOut } from '../../domain/filter.ts';
import { newId } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { ApplicationRecord, MessageRecord } from '../../storage/contract.ts';
import type { ApiContext } from '../context.ts';

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
  tags?: string[] | null | undefined;
  /** First attempt not before this time (scheduled delivery). */
  deliverAt?: number | undefined;
}

/**
 * Stores a message and its deliveries durably and returns it. A duplicate `eventId` in the application
 * is a 409 conflict, as Svix answers; retrying one request safely is what `idempotency-key` is for.
 */
export async function ingestMessage(
  ctx: ApiContext,
  app: ApplicationRecord,
  input: NewMessageInput,
): Promise<MessageRecord> {
  if (Buffer.byteLength(input.payload) > ctx.config.maxPayloadBytes) {
    throw new ApiError(
      'payload_too_large',
      `The payload is ${Buffer.byteLength(input.payload)} bytes of JSON; this server accepts at most ${ctx.config.maxPayloadBytes}.`,
    );
  }
  const now = ctx.clock();
  const endpointIds =
    input.endpointIds ?? fanOut(await ctx.endpoints.forApp(app.id), input).map((endpoint) => endpoint.id);
  const message: MessageRecord = {
    id: newId('message', now),
    appId: app.id,
    uid: input.uid,
    eventType: input.eventType,
    channels: input.channels,
    payload: input.payload,
    payloadExpiresAt: now + (input.retentionMs ?? DEFAULT_PAYLOAD_RETENTION_MS),
    createdAt: now,
    ...(input.tags ? { tags: input.tags } : {}),
    // A time already past is "at once": the delivery is simply due now.
    ...(input.deliverAt !== undefined && input.deliverAt > now ? { deliverAt: input.deliverAt } : {}),
  };
  const result = await ctx.storage.messages.ingest({ message, endpointIds });
  if (result.kind === 'duplicate') {
    throw new ApiError('conflict', `A message with eventId ${input.uid} already exists in this application.`);
  }
  return result.message;
}
