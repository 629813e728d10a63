import { type TSchema, Type } from 'typebox';
import { Channel, EventTypeName, named, Uid } from './schemas.ts';

/**
 * Schemas of the polling-endpoint consumers (Svix's `svix.message.poller` and the poller v2 routes,
 * `routes/polling.ts`), with Svix's names so the OpenAPI document matches the reference.
 */
const DateTime = Type.String({ format: 'date-time' });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** Svix consumer ids are free-form; Hookyard keeps them to the id alphabet, and short. */
const ConsumerId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9\\-_.]+$' });

export const PollerParams = Type.Object({ app_id: Uid, sink_id: Uid });
export const PollerConsumerParams = Type.Object({ app_id: Uid, sink_id: Uid, consumer_id: ConsumerId });

const Limit = Type.Integer({ minimum: 1, maximum: 250, description: 'Limit the number of returned items' });
const Iterator = Type.String({
  maxLength: 256,
  description: 'The iterator returned from a prior invocation',
});

export const PollerPollQuery = Type.Object({
  limit: Type.Optional(Limit),
  iterator: Type.Optional(nullable(Iterator)),
  event_type: Type.Optional(nullable(EventTypeName)),
  channel: Type.Optional(nullable(Channel)),
  after: Type.Optional(nullable(DateTime)),
});

export const PollerConsumerPollQuery = Type.Object({
  limit: Type.Optional(Limit),
  iterator: Type.Optional(nullable(Iterator)),
});

export const StartingPosition = named(
  'StartingPosition',
  Type.Union([Type.Literal('earliest'), Type.Literal('latest')]),
);

export const PollerV2PollQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  lease_duration_ms: Type.Optional(
    nullable(
      Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Lease duration in milliseconds.' }),
    ),
  ),
  starting_position: Type.Optional(nullable(StartingPosition)),
});

const messageFields = {
  headers: nullable(Type.Record(Type.String(), Type.String())),
  eventId: nullable(Type.String()),
  eventType: Type.String(),
  payload: Type.Object({}, { additionalProperties: true }),
  channels: nullable(Type.Array(Type.String())),
  id: Type.String(),
  timestamp: DateTime,
  tags: nullable(Type.Array(Type.String())),
  deliverAt: nullable(DateTime),
};

export const PollingEndpointMessageOut = named(
  'PollingEndpointMessageOut',
  Type.Object(messageFields, { description: 'The MessageOut equivalent of polling endpoint' }),
);
export const PollingEndpointOut = named(
  'PollingEndpointOut',
  Type.Object({ data: Type.Array(PollingEndpointMessageOut), iterator: Type.String(), done: Type.Boolean() }),
);
export const PollingEndpointConsumerSeekIn = named(
  'PollingEndpointConsumerSeekIn',
  Type.Object({ after: DateTime }),
);
export const PollingEndpointConsumerSeekOut = named(
  'PollingEndpointConsumerSeekOut',
  Type.Object({ iterator: Type.String() }),
);
export const PollerV2MessageOut = named(
  'PollerV2MessageOut',
  Type.Object(
    { offset: Type.Integer({ minimum: 0 }), ...messageFields },
    { description: 'The MessageOut equivalent of polling endpoint' },
  ),
);
export const PollerV2PollOut = named(
  'PollerV2PollOut',
  Type.Object({ data: Type.Array(PollerV2MessageOut), done: Type.Boolean() }),
);
export const PollerV2CommitIn = named(
  'PollerV2CommitIn',
  Type.Object({ offset: Type.Integer({ minimum: 0 }) }),
);

export const PollerTokenParams = Type.Object({ app_id: Uid, endpoint_id: Uid });
export const RotatePollerTokenIn = named(
  'RotatePollerTokenIn',
  Type.Object({
    expiry: Type.Optional(
      nullable(
        Type.Integer({
          minimum: 1,
          maximum: 31_536_000,
          description:
            'How long the token will be valid for, in seconds (at most a year); null or absent = no expiry.',
        }),
      ),
    ),
    oldTokenExpiry: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400,
        default: 300,
        description: "Updates the previous token's expiration, in seconds; 0 revokes it at once.",
      }),
    ),
  }),
);
export const ApiTokenOut = named(
  'ApiTokenOut',
  Type.Object({
    token: Type.String(),
    id: Type.String(),
    name: nullable(Type.String()),
    createdAt: DateTime,
    expiresAt: nullable(DateTime),
    scopes: nullable(Type.Array(Type.String())),
  }),
);
