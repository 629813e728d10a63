import { type TSchema, Type } from 'typebox';
import { DEFAULT_PAYLOAD_RETENTION_DAYS } from '../config/settings.ts';
import { CAPABILITIES } from './auth.ts';

/**
 * The request and response schemas of the Svix API, as TypeBox: Fastify validates requests with them
 * and `openapi.ts` publishes them under these names (the names Svix's document uses). Bounds follow the
 * Svix spec; where it leaves a string or list unbounded we bound it anyway so no request is unbounded.
 * Fields the official SDKs send under newer names (`filterTypes`, `rateLimit`) are accepted as aliases.
 */
const names = new WeakMap<object, string>();

export function named<T extends TSchema>(name: string, schema: T): T {
  names.set(schema, name);
  return schema;
}

export function schemaName(schema: object): string | undefined {
  return names.get(schema);
}

const ID_PATTERN = '^[a-zA-Z0-9\\-_.]+$';
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Uid = Type.String({ minLength: 1, maxLength: 256, pattern: ID_PATTERN });
export const EventTypeName = Type.String({ minLength: 1, maxLength: 256, pattern: ID_PATTERN });
export const Channel = Type.String({ minLength: 1, maxLength: 128, pattern: ID_PATTERN });
const FeatureFlag = Type.String({ minLength: 1, maxLength: 256, pattern: ID_PATTERN });
/** A message tag: Svix's pattern (slashes and `#` allowed, unlike uids). */
export const Tag = Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9\\-_./\\\\#]+$' });
const DateTime = Type.String({ format: 'date-time' });
const Metadata = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), {
  maxProperties: 100,
});
/** Svix refuses control characters 0x00-0x08 in names and descriptions. */
const NO_CONTROL = '^[^\\u0000-\\u0008]*$';
const Name = Type.String({ minLength: 1, maxLength: 1024, pattern: NO_CONTROL });
const Description = Type.String({ maxLength: 8192, pattern: NO_CONTROL });
const RateIn = Type.Integer({ minimum: 1, maximum: 65535 });
const RateOut = Type.Integer({ minimum: 0, maximum: 65535 });
const EndpointUrl = Type.String({ format: 'uri', minLength: 1, maxLength: 65536 });
/**
 * An endpoint secret: Svix's `whsec_` HMAC secret (prefix optional), or, as a Hookyard addition, a
 * `whsk_` ed25519 signing key, which makes the endpoint sign with Standard Webhooks `v1a`.
 */
const Secret = Type.String({ pattern: '^((whsec_)?[a-zA-Z0-9+/=]{32,100}|whsk_[a-zA-Z0-9+/=]{80,100})$' });
/** What `GET .../secret` shows: the HMAC secret, or for a v1a endpoint only its `whpk_` public key. */
const SecretOut = Type.String({ pattern: '^((whsec_)?[a-zA-Z0-9+/=]{32,100}|whpk_[a-zA-Z0-9+/=]{40,50})$' });
const EventTypes = Type.Array(EventTypeName, { minItems: 1, maxItems: 1000, uniqueItems: true });
const EndpointChannels = Type.Array(Channel, { minItems: 1, maxItems: 10, uniqueItems: true });
const MessageChannels = Type.Array(Channel, { minItems: 1, maxItems: 5, uniqueItems: true });
const HeaderMap = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), {
  maxProperties: 50,
});
const JsonObject = Type.Object({}, { additionalProperties: true });
/**
 * A Hookyard addition: a payload filter (Convoy/Outpost syntax). Its grammar is checked by
 * validateFilter in the route, which names the path of each mistake; `{}` or null = no filter.
 */
const PayloadFilter = Type.Object(
  {},
  {
    additionalProperties: true,
    maxProperties: 100,
    description:
      'Hookyard addition: the endpoint hears a message only when this JSON filter matches its payload ' +
      '(operators $eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $exist, $or, $and; dotted or nested paths). ' +
      'null or {} = every payload.',
    example: { 'data.amount': { $gte: 100 }, type: { $in: ['invoice.paid', 'invoice.failed'] } },
  },
);

// Path parameters.
export const AppParams = Type.Object({ app_id: Uid });
export const EndpointParams = Type.Object({ app_id: Uid, endpoint_id: Uid });
export const MessageParams = Type.Object({ app_id: Uid, msg_id: Uid });
export const AttemptParams = Type.Object({
  app_id: Uid,
  msg_id: Uid,
  attempt_id: Type.String({ maxLength: 256 }),
});
export const MessageEndpointParams = Type.Object({ app_id: Uid, msg_id: Uid, endpoint_id: Uid });
export const EventTypeParams = Type.Object({ event_type_name: EventTypeName });

// Query strings. Lists arrive comma-separated (as the SDKs send them) or repeated; a hook splits them.
export const Ordering = named(
  'Ordering',
  Type.Union([Type.Literal('ascending'), Type.Literal('descending')]),
);
export const MessageStatus = named('MessageStatus', Type.Integer({ enum: [0, 1, 2, 3, 4] }));
export const StatusCodeClass = named('StatusCodeClass', Type.Integer({ enum: [0, 100, 200, 300, 400, 500] }));
export const MessageStatusText = named(
  'MessageStatusText',
  Type.Union([
    Type.Literal('success'),
    Type.Literal('pending'),
    Type.Literal('fail'),
    Type.Literal('sending'),
    Type.Literal('canceled'),
  ]),
);
export const MessageAttemptTriggerType = named('MessageAttemptTriggerType', Type.Integer({ enum: [0, 1] }));

const page = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      default: 50,
      description: 'Limit the number of returned items (at most 250)',
    }),
  ),
  iterator: Type.Optional(
    Type.String({ maxLength: 300, description: 'The iterator returned from a prior invocation' }),
  ),
};
const timeRange = {
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
};
const eventTypesQuery = Type.Optional(Type.Array(EventTypeName, { maxItems: 100, uniqueItems: true }));

export const OrderedListQuery = Type.Object({ ...page, order: Type.Optional(Ordering) });
export const AppListQuery = Type.Object({
  ...page,
  order: Type.Optional(Ordering),
  search: Type.Optional(
    Type.String({
      maxLength: 256,
      description: 'Hookyard addition: only applications whose name or uid contains this (case-insensitive).',
    }),
  ),
});
export const CreateAppQuery = Type.Object({ get_if_exists: Type.Optional(Type.Boolean({ default: false })) });
export const EventTypeListQuery = Type.Object({
  ...page,
  order: Type.Optional(Ordering),
  include_archived: Type.Optional(Type.Boolean({ default: false })),
  with_content: Type.Optional(Type.Boolean({ default: false })),
});
export const EventTypeDeleteQuery = Type.Object({ expunge: Type.Optional(Type.Boolean({ default: false })) });
export const WithContentQuery = Type.Object({ with_content: Type.Optional(Type.Boolean({ default: true })) });
export const MessageListQuery = Type.Object({
  ...page,
  ...timeRange,
  channel: Type.Optional(Channel),
  tag: Type.Optional(Tag),
  with_content: Type.Optional(Type.Boolean({ default: true })),
  event_types: eventTypesQuery,
});
export const AttemptListQuery = Type.Object({
  ...page,
  ...timeRange,
  status: Type.Optional(MessageStatus),
  status_code_class: Type.Optional(StatusCodeClass),
  channel: Type.Optional(Channel),
  tag: Type.Optional(Tag),
  expanded_statuses: Type.Optional(Type.Boolean({ default: false })),
  with_content: Type.Optional(Type.Boolean({ default: true })),
  with_msg: Type.Optional(Type.Boolean({ default: false })),
  event_types: eventTypesQuery,
});
export const AttemptByMsgQuery = Type.Object({
  ...AttemptListQuery.properties,
  endpoint_id: Type.Optional(Uid),
});
export const AttemptedMessagesQuery = Type.Object({
  ...page,
  ...timeRange,
  channel: Type.Optional(Channel),
  tag: Type.Optional(Tag),
  expanded_statuses: Type.Optional(Type.Boolean({ default: false })),
  status: Type.Optional(MessageStatus),
  with_content: Type.Optional(Type.Boolean({ default: true })),
  event_types: eventTypesQuery,
});
export const PageQuery = Type.Object({ ...page });
/** `expanded_statuses=true` shows `canceled` (4) as such; otherwise as success (0), as Svix does. */
export const ExpandedStatusesQuery = Type.Object({
  expanded_statuses: Type.Optional(Type.Boolean({ default: false })),
});
export const StatsQuery = Type.Object({ since: Type.Optional(DateTime), until: Type.Optional(DateTime) });

// Bodies.
export const ApplicationIn = named(
  'ApplicationIn',
  Type.Object({
    name: Name,
    uid: Type.Optional(nullable(Uid)),
    throttleRate: Type.Optional(nullable(RateIn)),
    rateLimit: Type.Optional(nullable(RateIn)),
    metadata: Type.Optional(Metadata),
  }),
);
export const ApplicationPatch = named(
  'ApplicationPatch',
  Type.Object({
    name: Type.Optional(Name),
    uid: Type.Optional(nullable(Uid)),
    throttleRate: Type.Optional(nullable(RateIn)),
    rateLimit: Type.Optional(nullable(RateIn)),
    metadata: Type.Optional(Metadata),
  }),
);
export const ApplicationOut = named(
  'ApplicationOut',
  Type.Object({
    id: Type.String(),
    uid: nullable(Uid),
    name: Type.String(),
    throttleRate: nullable(RateOut),
    rateLimit: nullable(RateOut),
    metadata: Metadata,
    createdAt: DateTime,
    updatedAt: DateTime,
  }),
);

const EventTypeSchemas = nullable(
  Type.Record(Type.String({ maxLength: 64 }), JsonObject, { maxProperties: 20 }),
);
export const EventTypeIn = named(
  'EventTypeIn',
  Type.Object({
    name: EventTypeName,
    description: Description,
    archived: Type.Optional(Type.Boolean({ default: false })),
    deprecated: Type.Optional(Type.Boolean({ default: false })),
    featureFlag: Type.Optional(nullable(FeatureFlag)),
    schemas: Type.Optional(EventTypeSchemas),
  }),
);
export const EventTypeUpdate = named(
  'EventTypeUpdate',
  Type.Object({
    description: Description,
    archived: Type.Optional(Type.Boolean({ default: false })),
    deprecated: Type.Optional(Type.Boolean({ default: false })),
    featureFlag: Type.Optional(nullable(FeatureFlag)),
    schemas: Type.Optional(EventTypeSchemas),
  }),
);
export const EventTypePatch = named(
  'EventTypePatch',
  Type.Object({
    description: Type.Optional(Description),
    archived: Type.Optional(Type.Boolean()),
    deprecated: Type.Optional(Type.Boolean()),
    featureFlag: Type.Optional(nullable(FeatureFlag)),
    schemas: Type.Optional(EventTypeSchemas),
  }),
);
export const EventTypeOut = named(
  'EventTypeOut',
  Type.Object({
    name: EventTypeName,
    description: Type.String(),
    archived: Type.Boolean(),
    deprecated: Type.Boolean(),
    featureFlag: nullable(FeatureFlag),
    schemas: Type.Optional(EventTypeSchemas),
    createdAt: DateTime,
    updatedAt: DateTime,
  }),
);

/**
 * The Hookyard addition `egress` on endpoints (api/use-cases/egress.ts checks it, docs/destinations.md
 * describes it).
 */
const Pem = (description: string) => Type.String({ minLength: 1, maxLength: 262_144, description });

export const EndpointEgressIn = named(
  'EndpointEgressIn',
  Type.Object(
    {
      clientCertificate: Type.Optional(
        Type.Union([
          Pem(
            'PEM certificate (a chain, leaf first) presented to the receiver for mutual TLS; set together with clientKey. null clears it.',
          ),
          Type.Null(),
        ]),
      ),
      clientKey: Type.Optional(
        Type.Union([
          Pem(
            'Unencrypted PEM private key of clientCertificate; stored encrypted when HOOKYARD_ENCRYPTION_KEY is set and never returned.',
          ),
          Type.Null(),
        ]),
      ),
      caBundle: Type.Optional(
        Type.Union([
          Pem(
            "PEM certificates the receiver's certificate must chain to, trusted for this endpoint instead of the public roots.",
          ),
          Type.Null(),
        ]),
      ),
      proxy: Type.Optional(
        Type.Union([
          Type.String({
            minLength: 1,
            maxLength: 2048,
            description:
              'An http:// or https:// proxy (HTTP CONNECT) for this endpoint instead of HOOKYARD_EGRESS_PROXY, or "direct" for none. null: the server default.',
          }),
          Type.Null(),
        ]),
      ),
    },
    {
      additionalProperties: false,
      description:
        'Hookyard addition: how deliveries to this endpoint leave (mutual TLS, trusted CAs, proxy). On update and patch an absent field is kept, null clears it; egress: null clears them all.',
    },
  ),
);

const EgressCertificateOut = Type.Object({
  subject: Type.String(),
  issuer: Type.String(),
  fingerprint256: Type.String({ description: 'SHA-256 fingerprint, colon-separated hex.' }),
  validFrom: Type.String({ format: 'date-time' }),
  validTo: Type.String({ format: 'date-time' }),
});

export const EndpointEgressOut = named(
  'EndpointEgressOut',
  Type.Object(
    {
      clientCertificate: Type.Union([EgressCertificateOut, Type.Null()], {
        description: 'The client certificate set (the key never shows), or null.',
      }),
      caBundle: Type.Union([Type.Array(EgressCertificateOut), Type.Null()]),
      proxy: Type.Union([Type.String(), Type.Null()], {
        description:
          '"direct", the proxy\'s scheme, host and port (its credentials never show), or null for the server default.',
      }),
    },
    { description: 'Hookyard addition: the egress settings, described; null when none is set.' },
  ),
);

const endpointFields = {
  url: EndpointUrl,
  uid: Type.Optional(nullable(Uid)),
  description: Type.Optional(Type.String({ maxLength: 8192, default: '', pattern: NO_CONTROL })),
  disabled: Type.Optional(Type.Boolean({ default: false })),
  eventTypes: Type.Optional(nullable(EventTypes)),
  filterTypes: Type.Optional(nullable(EventTypes)),
  channels: Type.Optional(nullable(EndpointChannels)),
  throttleRate: Type.Optional(nullable(RateIn)),
  rateLimit: Type.Optional(nullable(RateIn)),
  metadata: Type.Optional(Metadata),
  version: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 1 }))),
  filter: Type.Optional(nullable(PayloadFilter)),
  egress: Type.Optional(nullable(EndpointEgressIn)),
};
export const EndpointIn = named(
  'EndpointIn',
  Type.Object({
    ...endpointFields,
    secret: Type.Optional(nullable(Secret)),
    headers: Type.Optional(nullable(HeaderMap)),
  }),
);
export const EndpointUpdate = named('EndpointUpdate', Type.Object(endpointFields));
export const EndpointPatch = named(
  'EndpointPatch',
  Type.Object({
    url: Type.Optional(EndpointUrl),
    uid: Type.Optional(nullable(Uid)),
    description: Type.Optional(Type.String({ maxLength: 8192, pattern: NO_CONTROL })),
    disabled: Type.Optional(Type.Boolean()),
    eventTypes: Type.Optional(nullable(Type.Array(EventTypeName, { maxItems: 1000, uniqueItems: true }))),
    filterTypes: Type.Optional(nullable(Type.Array(EventTypeName, { maxItems: 1000, uniqueItems: true }))),
    channels: Type.Optional(nullable(Type.Array(Channel, { maxItems: 10, uniqueItems: true }))),
    throttleRate: Type.Optional(nullable(RateIn)),
    rateLimit: Type.Optional(nullable(RateIn)),
    metadata: Type.Optional(Metadata),
    secret: Type.Optional(nullable(Secret)),
    version: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 1 }))),
    filter: Type.Optional(nullable(PayloadFilter)),
    egress: Type.Optional(nullable(EndpointEgressIn)),
  }),
);
const endpointOutFields = {
  id: Type.String(),
  uid: nullable(Uid),
  url: Type.String(),
  description: Type.String(),
  disabled: Type.Boolean(),
  eventTypes: nullable(Type.Array(EventTypeName)),
  filterTypes: nullable(Type.Array(EventTypeName)),
  channels: nullable(Type.Array(Channel)),
  throttleRate: nullable(RateOut),
  rateLimit: nullable(RateOut),
  version: Type.Integer(),
  createdAt: DateTime,
  updatedAt: DateTime,
};
export const EndpointOut = named(
  'EndpointOut',
  Type.Object({
    ...endpointOutFields,
    metadata: Metadata,
    filter: nullable(PayloadFilter),
    egress: nullable(EndpointEgressOut),
  }),
);
export const EndpointSecretOut = named('EndpointSecretOut', Type.Object({ key: SecretOut }));
export const EndpointSecretRotateIn = named(
  'EndpointSecretRotateIn',
  Type.Object({
    key: Type.Optional(nullable(Secret)),
    gracePeriodSeconds: Type.Optional(
      nullable(Type.Integer({ minimum: 0, maximum: 604800, default: 86400 })),
    ),
  }),
);
export const EndpointHeadersIn = named('EndpointHeadersIn', Type.Object({ headers: HeaderMap }));
export const EndpointHeadersPatchIn = named(
  'EndpointHeadersPatchIn',
  Type.Object({
    headers: Type.Record(Type.String({ maxLength: 256 }), nullable(Type.String({ maxLength: 4096 })), {
      maxProperties: 50,
    }),
    deleteHeaders: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 50 })),
  }),
);
export const EndpointHeadersOut = named(
  'EndpointHeadersOut',
  Type.Object({ headers: HeaderMap, sensitive: Type.Array(Type.String(), { uniqueItems: true }) }),
);
export const EndpointStats = named(
  'EndpointStats',
  Type.Object({
    success: Type.Integer({
      description:
        'Successful attempts that finished in the range (a resent delivery counts once per success).',
    }),
    pending: Type.Integer({
      description: 'Deliveries created in the range not yet attempted (queued, in flight or held).',
    }),
    sending: Type.Integer({
      description: 'Deliveries created in the range that failed and will be retried.',
    }),
    fail: Type.Integer({ description: 'Deliveries created in the range whose retries ran out.' }),
    canceled: Type.Integer({ description: 'Deliveries created in the range canceled by a bulk expunge.' }),
  }),
);
export const RecoverIn = named(
  'RecoverIn',
  Type.Object({ since: DateTime, until: Type.Optional(nullable(DateTime)) }),
);
export const RecoverOut = named(
  'RecoverOut',
  Type.Object({
    id: Type.String(),
    /** `finished`: Hookyard re-queues in one statement before it answers. */
    status: Type.Union([Type.Literal('running'), Type.Literal('finished')]),
    task: Type.Literal('endpoint.recover'),
    updatedAt: DateTime,
  }),
);
/** Hookyard addition: `POST .../endpoint/{endpoint_id}/replay`. */
export const ReplayIn = named(
  'ReplayIn',
  Type.Object({
    since: DateTime,
    until: Type.Optional(nullable(DateTime)),
  }),
);
export const ReplayOut = named(
  'ReplayOut',
  Type.Object({
    id: Type.String(),
    /** The replay is done by the time the response is sent (its deliveries are queued). */
    status: Type.Literal('finished'),
    task: Type.Literal('endpoint.replay'),
    /** Deliveries re-queued by this call (0 for a repeat while the first call's are still queued). */
    replayed: Type.Integer({ minimum: 0 }),
    updatedAt: DateTime,
  }),
);
export const EventExampleIn = named(
  'EventExampleIn',
  Type.Object({
    eventType: EventTypeName,
    exampleIndex: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  }),
);

export const MessageIn = named(
  'MessageIn',
  Type.Object({
    eventType: EventTypeName,
    payload: JsonObject,
    eventId: Type.Optional(nullable(Uid)),
    channels: Type.Optional(nullable(MessageChannels)),
    payloadRetentionPeriod: Type.Optional(
      nullable(
        Type.Integer({
          minimum: 5,
          maximum: 90,
          default: DEFAULT_PAYLOAD_RETENTION_DAYS,
        }),
      ),
    ),
    payloadRetentionHours: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 2160 }))),
    application: Type.Optional(nullable(ApplicationIn)),
    tags: Type.Optional(nullable(Type.Array(Tag, { maxItems: 20, uniqueItems: true }))),
    /** Scheduled delivery: stored at once, first attempted at this time (any future time). */
    deliverAt: Type.Optional(nullable(DateTime)),
  }),
);
export const MessageOut = named(
  'MessageOut',
  Type.Object({
    id: Type.String(),
    eventId: nullable(Uid),
    eventType: EventTypeName,
    channels: nullable(Type.Array(Channel)),
    payload: JsonObject,
    timestamp: DateTime,
    tags: Type.Optional(nullable(Type.Array(Tag))),
    deliverAt: Type.Optional(nullable(DateTime)),
  }),
);
export const EndpointMessageOut = named(
  'EndpointMessageOut',
  Type.Object({
    ...MessageOut.properties,
    status: MessageStatus,
    statusText: MessageStatusText,
    nextAttempt: nullable(DateTime),
  }),
);
export const MessageEndpointOut = named(
  'MessageEndpointOut',
  Type.Object({
    ...endpointOutFields,
    status: MessageStatus,
    statusText: MessageStatusText,
    nextAttempt: nullable(DateTime),
  }),
);
export const MessageAttemptOut = named(
  'MessageAttemptOut',
  Type.Object({
    id: Type.String(),
    msgId: Type.String(),
    endpointId: Type.String(),
    url: Type.String(),
    status: MessageStatus,
    statusText: MessageStatusText,
    response: Type.String(),
    responseStatusCode: Type.Integer(),
    responseDurationMs: Type.Integer(),
    triggerType: MessageAttemptTriggerType,
    timestamp: DateTime,
    msg: Type.Optional(MessageOut),
  }),
);
export const EmptyResponse = named('EmptyResponse', Type.Object({}));

export const AppPortalAccessIn = named(
  'AppPortalAccessIn',
  Type.Object({
    application: Type.Optional(nullable(ApplicationIn)),
    featureFlags: Type.Optional(Type.Array(FeatureFlag, { maxItems: 100, uniqueItems: true })),
    expiry: Type.Optional(
      nullable(
        Type.Integer({
          minimum: 60,
          maximum: 604800,
          description: 'Token lifetime in seconds (default 7 days)',
        }),
      ),
    ),
    readOnly: Type.Optional(nullable(Type.Boolean())),
    sessionId: Type.Optional(nullable(Type.String({ maxLength: 256 }))),
    capabilities: Type.Optional(
      nullable(
        Type.Array(named('AppPortalCapability', Type.Union(CAPABILITIES.map((name) => Type.Literal(name)))), {
          uniqueItems: true,
        }),
      ),
    ),
  }),
);
export const AppPortalAccessOut = named(
  'AppPortalAccessOut',
  Type.Object({ token: Type.String(), url: Type.String({ format: 'uri' }) }),
);
/** The portal page trades its link's one-time key for a token of its own (Hookyard's addition). */
export const AppPortalKeyIn = named('AppPortalKeyIn', Type.Object({ key: Type.String({ maxLength: 128 }) }));
export const AppPortalSessionOut = named(
  'AppPortalSessionOut',
  Type.Object({
    token: Type.String(),
    appId: Type.String(),
    expiresAt: DateTime,
    capabilities: Type.Array(Type.String()),
  }),
);

const HealthStatus = Type.Object({
  status: Type.Union([Type.Literal('OK'), Type.Literal('ERROR')]),
  error: Type.Optional(Type.String()),
});
/** What `GET /health` reports, as newer Svix servers do (the 1.1 document says 204 with no body). */
export const HealthReport = named(
  'HealthReport',
  Type.Object({ database: HealthStatus, backend: Type.String() }),
);

export const HttpErrorOut = named(
  'HttpErrorOut',
  Type.Object({ code: Type.String(), detail: Type.String() }),
);
export const HTTPValidationError = named(
  'HTTPValidationError',
  Type.Object({
    code: Type.Optional(Type.Literal('validation')),
    detail: Type.Array(
      named(
        'ValidationErrorItem',
        Type.Object({
          loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
          msg: Type.String(),
          type: Type.String(),
        }),
      ),
    ),
  }),
);

export function listResponse(itemName: string, item: TSchema): TSchema {
  return named(
    `ListResponse_${itemName}_`,
    Type.Object({
      data: Type.Array(item),
      iterator: nullable(Type.String()),
      prevIterator: nullable(Type.String()),
      done: Type.Boolean(),
    }),
  );
}

// Svix's cloud operations (the shapes of svix-cloud-subset-openapi.json).
export const BackgroundTaskStatusSchema = named(
  'BackgroundTaskStatus',
  Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed')]),
);
export const BackgroundTaskTypeSchema = named(
  'BackgroundTaskType',
  Type.Union(
    [
      'endpoint.replay',
      'endpoint.recover',
      'application.stats',
      'message.broadcast',
      'sdk.generate',
      'event-type.aggregate',
      'application.purge_content',
      'endpoint.bulk-replay',
    ].map((value) => Type.Literal(value)),
  ),
);
export const BackgroundTaskOut = named(
  'BackgroundTaskOut',
  Type.Object({
    data: JsonObject,
    id: Type.String(),
    status: BackgroundTaskStatusSchema,
    task: BackgroundTaskTypeSchema,
    updatedAt: DateTime,
  }),
);
/** What an operation that starts a background task answers (Svix's ReplayOut, ExpungeAllContentsOut). */
export const BackgroundTaskStartOut = named(
  'BackgroundTaskStartOut',
  Type.Object({
    id: Type.String(),
    status: BackgroundTaskStatusSchema,
    task: BackgroundTaskTypeSchema,
    updatedAt: DateTime,
  }),
);
export const BackgroundTaskParams = Type.Object({ task_id: Type.String({ minLength: 1, maxLength: 64 }) });
export const BackgroundTaskListQuery = Type.Object({
  ...page,
  order: Type.Optional(Ordering),
  status: Type.Optional(BackgroundTaskStatusSchema),
  task: Type.Optional(BackgroundTaskTypeSchema),
});
export const BulkReplayIn = named(
  'BulkReplayIn',
  Type.Object({
    since: DateTime,
    until: Type.Optional(nullable(DateTime)),
    eventTypes: Type.Optional(nullable(Type.Array(EventTypeName, { maxItems: 1000, uniqueItems: true }))),
    channel: Type.Optional(nullable(Channel)),
    tag: Type.Optional(nullable(Tag)),
    status: Type.Optional(nullable(MessageStatus)),
    statusCodeClass: Type.Optional(nullable(StatusCodeClass)),
  }),
);
export const MessagePrecheckIn = named(
  'MessagePrecheckIn',
  Type.Object({
    eventType: EventTypeName,
    channels: Type.Optional(nullable(MessageChannels)),
  }),
);
export const MessagePrecheckOut = named('MessagePrecheckOut', Type.Object({ active: Type.Boolean() }));
export const BulkExpungeContentsIn = named(
  'BulkExpungeContentsIn',
  Type.Object({ ids: Type.Optional(Type.Array(Uid, { maxItems: 1000, uniqueItems: true })) }),
);
export const BulkExpungeContentsOut = named(
  'BulkExpungeContentsOut',
  Type.Object({
    results: Type.Record(
      Type.String(),
      named('BulkExpungeStatus', Type.Union([Type.Literal('expunged'), Type.Literal('not-found')])),
    ),
  }),
);
export const ApplicationTokenExpireIn = named(
  'ApplicationTokenExpireIn',
  Type.Object({
    expiry: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 259200 }))),
    sessionIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9@_-]+$' }), {
        maxItems: 1000,
      }),
    ),
  }),
);
export const EventTypeImportOpenApiIn = named(
  'EventTypeImportOpenApiIn',
  Type.Object({
    dryRun: Type.Optional(Type.Boolean({ default: false })),
    replaceAll: Type.Optional(Type.Boolean({ default: false })),
    spec: Type.Optional(nullable(JsonObject)),
    specRaw: Type.Optional(nullable(Type.String({ maxLength: 4 * 1024 * 1024 }))),
  }),
);
const EventTypeFromOpenApi = named(
  'EventTypeFromOpenApi',
  Type.Object({
    name: EventTypeName,
    description: Type.String(),
    schemas: Type.Optional(nullable(JsonObject)),
    deprecated: Type.Boolean(),
  }),
);
export const EventTypeImportOpenApiOut = named(
  'EventTypeImportOpenApiOut',
  Type.Object({
    data: named(
      'EventTypeImportOpenApiOutData',
      Type.Object({
        modified: Type.Array(EventTypeName),
        to_modify: Type.Optional(nullable(Type.Array(EventTypeFromOpenApi))),
      }),
    ),
  }),
);
const ExportedEndpoint = Type.Object({
  uid: Type.Optional(nullable(Uid)),
  url: EndpointUrl,
  description: Type.Optional(Type.String({ maxLength: 8192 })),
  disabled: Type.Optional(Type.Boolean()),
  eventTypes: Type.Optional(nullable(Type.Array(EventTypeName, { maxItems: 1000, uniqueItems: true }))),
  channels: Type.Optional(nullable(Type.Array(Channel, { maxItems: 10, uniqueItems: true }))),
  rateLimit: Type.Optional(nullable(RateIn)),
  metadata: Type.Optional(Metadata),
  filter: Type.Optional(nullable(PayloadFilter)),
  headers: Type.Optional(HeaderMap),
  secret: Type.Optional(nullable(Secret)),
  /** Only with include_secrets: the PEM texts, the key and the proxy URL, as create takes them. */
  egress: Type.Optional(nullable(EndpointEgressIn)),
});
/** Hookyard's part of an environment document, under `settings.hookyard`. */
export const HookyardEnvironment = Type.Object({
  version: Type.Optional(Type.Integer()),
  applications: Type.Array(
    Type.Object({
      uid: Type.Optional(nullable(Uid)),
      name: Name,
      rateLimit: Type.Optional(nullable(RateIn)),
      metadata: Type.Optional(Metadata),
      endpoints: Type.Optional(Type.Array(ExportedEndpoint, { maxItems: 10_000 })),
    }),
    { maxItems: 100_000 },
  ),
});
export const EnvironmentIn = named(
  'EnvironmentIn',
  Type.Object({
    eventTypes: Type.Optional(nullable(Type.Array(EventTypeIn, { maxItems: 10_000 }))),
    settings: Type.Optional(
      nullable(Type.Object({ hookyard: Type.Optional(HookyardEnvironment) }, { additionalProperties: true })),
    ),
    connectors: Type.Optional(nullable(Type.Array(JsonObject, { maxItems: 0 }))),
  }),
);
export const EnvironmentOut = named(
  'EnvironmentOut',
  Type.Object({
    version: Type.Integer(),
    createdAt: DateTime,
    eventTypes: Type.Array(EventTypeOut),
    settings: nullable(JsonObject),
    connectors: Type.Array(JsonObject),
  }),
);
export const EnvironmentExportQuery = Type.Object({
  include_secrets: Type.Optional(Type.Boolean({ default: false })),
});

/** Svix's operational-webhook endpoints: the event types are Hookyard's operational events. */
const OperationalEventTypes = Type.Array(EventTypeName, { minItems: 1, maxItems: 100, uniqueItems: true });
const operationalEndpointFields = {
  url: EndpointUrl,
  description: Type.Optional(Type.String({ maxLength: 8192, default: '', pattern: NO_CONTROL })),
  throttleRate: Type.Optional(nullable(RateIn)),
  rateLimit: Type.Optional(nullable(RateIn)),
  uid: Type.Optional(nullable(Uid)),
  disabled: Type.Optional(Type.Boolean({ default: false })),
  eventTypes: Type.Optional(nullable(OperationalEventTypes)),
  metadata: Type.Optional(Metadata),
};
export const OperationalWebhookEndpointIn = named(
  'OperationalWebhookEndpointIn',
  Type.Object({
    ...operationalEndpointFields,
    secret: Type.Optional(nullable(Secret)),
    headers: Type.Optional(nullable(HeaderMap)),
  }),
);
export const OperationalWebhookEndpointUpsertIn = named(
  'OperationalWebhookEndpointUpsertIn',
  Type.Object(operationalEndpointFields),
);
export const OperationalWebhookEndpointOut = named(
  'OperationalWebhookEndpointOut',
  Type.Object({
    id: Type.String(),
    url: Type.String(),
    description: Type.String(),
    throttleRate: nullable(RateOut),
    uid: nullable(Uid),
    disabled: Type.Boolean(),
    eventTypes: nullable(Type.Array(EventTypeName)),
    createdAt: DateTime,
    updatedAt: DateTime,
    metadata: Metadata,
  }),
);
export const OperationalEndpointParams = Type.Object({ endpoint_id: Uid });

// The Destination API (Svix's newer `/destination` resource; docs/destinations.md). A destination is
// `type` + `config`; each type's config is checked by the route (422 naming the field), since a union of
// object schemas would report a mismatch without saying which field is wrong.
export const DESTINATION_TYPES = [
  'fifoEndpoint',
  'rabbitMq',
  'postgres',
  'natsJetStream',
  'redisStream',
  'mqtt',
  'pollingEndpoint',
] as const;
/** The types Svix's SDK 2.x knows; a list read by that SDK leaves the others out (docs/destinations.md). */
export const SVIX_DESTINATION_TYPES: readonly string[] = [
  'fifoEndpoint',
  'rabbitMq',
  'postgres',
  'pollingEndpoint',
];
const DestinationType = Type.Union(DESTINATION_TYPES.map((type) => Type.Literal(type)));
const DestinationUid = Type.String({ minLength: 1, maxLength: 60, pattern: '^(?!sink_)[a-zA-Z0-9_-]+$' });
export const DestinationStatusIn = named(
  'DestinationStatusIn',
  Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
);
export const DestinationStatus = named(
  'DestinationStatus',
  Type.Union([
    Type.Literal('enabled'),
    Type.Literal('paused'),
    Type.Literal('disabled'),
    Type.Literal('retrying'),
  ]),
);
const BATCH_SIZE =
  'Most messages in one batch. fifoEndpoint: default 100. Broker types (rabbitMq, postgres, natsJetStream, ' +
  'redisStream, mqtt): default 1 (each message on its own, unordered); above 1, or with maxWaitSecs above 0, ' +
  'the destination is an ordered stream, a batch at a time, each message still its own broker message. ' +
  'A broker destination does not switch between the two (422 at this field: create a new destination). ' +
  'pollingEndpoint: 1 only.';
const MAX_WAIT =
  'Seconds a batch short of batchSize waits for more, from its oldest message (default 0). Above 0 makes a ' +
  'broker destination ordered, as batchSize above 1 does. pollingEndpoint: 0 only.';
const DestinationConfig = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 16 });
const destinationFields = {
  uid: Type.Optional(nullable(DestinationUid)),
  status: Type.Optional(DestinationStatusIn),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: BATCH_SIZE })),
  maxWaitSecs: Type.Optional(Type.Integer({ minimum: 0, maximum: 300, description: MAX_WAIT })),
  eventTypes: Type.Optional(nullable(Type.Array(EventTypeName, { maxItems: 1000, uniqueItems: true }))),
  channels: Type.Optional(nullable(Type.Array(Channel, { maxItems: 10, uniqueItems: true }))),
  metadata: Type.Optional(Metadata),
  filter: Type.Optional(nullable(PayloadFilter)),
  /** Hookyard addition, fifoEndpoint only (it is delivered over HTTP): as an endpoint's `egress`. */
  egress: Type.Optional(nullable(EndpointEgressIn)),
};
/** `config` may be left out only by types that have none (`pollingEndpoint`); the route says so. */
export const DestinationIn = named(
  'DestinationIn',
  Type.Object({ ...destinationFields, type: DestinationType, config: Type.Optional(DestinationConfig) }),
);
export const DestinationPatch = named(
  'DestinationPatch',
  Type.Object({
    ...destinationFields,
    status: Type.Optional(nullable(DestinationStatusIn)),
    type: Type.Optional(DestinationType),
    config: Type.Optional(DestinationConfig),
  }),
);
export const DestinationOut = named(
  'DestinationOut',
  Type.Object({
    id: Type.String(),
    uid: nullable(Type.String()),
    type: DestinationType,
    config: DestinationConfig,
    status: DestinationStatus,
    failureReason: nullable(Type.String()),
    /** An ordered destination (fifoEndpoint, a batched broker): the last message acknowledged; '' before the first. */
    currentIterator: Type.Optional(
      Type.String({
        description:
          'Ordered destinations only (fifoEndpoint, a broker type with batching): the id of the last message acknowledged, "" before the first.',
      }),
    ),
    batchSize: Type.Integer(),
    maxWaitSecs: Type.Integer(),
    eventTypes: Type.Array(EventTypeName),
    channels: nullable(Type.Array(Channel)),
    nextRetryAt: nullable(DateTime),
    metadata: Metadata,
    filter: nullable(PayloadFilter),
    /** fifoEndpoint: its egress settings, described (as an endpoint's); absent for other types. */
    egress: Type.Optional(nullable(EndpointEgressOut)),
    createdAt: DateTime,
    updatedAt: DateTime,
  }),
);
export const DestinationParams = Type.Object({ app_id: Uid, destination_id: Uid });
export const DestinationSecretOut = named('SinkSecretOut', Type.Object({ key: SecretOut }));
export const DestinationHeadersPatchIn = named(
  'HttpSinkHeadersPatchIn',
  Type.Object({
    headers: Type.Record(Type.String({ maxLength: 256 }), nullable(Type.String({ maxLength: 4096 })), {
      maxProperties: 50,
    }),
  }),
);
/** An ordered destination's message, as `next-event` and `last-acked-event` show it (Svix's EventOut). */
export const DestinationEventOut = named(
  'EventOut',
  Type.Object({ eventType: EventTypeName, payload: Type.String(), timestamp: DateTime }),
);
export const DestinationSkipIn = named(
  'SkipParams',
  Type.Object({ iterator: Type.Optional(nullable(Type.String({ maxLength: 64 }))) }),
);
export const DestinationSkipQuery = Type.Object({
  iterator: Type.Optional(nullable(Type.String({ maxLength: 64 }))),
});
export const DestinationAttemptOut = named(
  'DestinationAttemptOut',
  Type.Object({
    id: Type.String(),
    destinationId: Type.String(),
    status: MessageStatus,
    statusText: MessageStatusText,
    firstMsgId: Type.String(),
    lastMsgId: Type.String(),
    numEvents: Type.Integer(),
    responseDurationMs: Type.Integer(),
    timestamp: DateTime,
  }),
);
