import { Type } from 'typebox';
import { named } from './schemas.ts';

/**
 * Schemas of the stats API (a Hookyard addition, `routes/stats.ts`): aggregates of the per-minute
 * rollup, so a chart over a day costs a SUM over at most 1,440 rows per endpoint, never a scan of
 * attempts.
 */
const DateTime = Type.String({ format: 'date-time' });
const Ms = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

export const StatsInterval = named(
  'StatsInterval',
  Type.Union([Type.Literal('1m'), Type.Literal('5m'), Type.Literal('15m'), Type.Literal('1h')]),
);

export const StatsRangeQuery = Type.Object({
  since: Type.Optional(DateTime),
  until: Type.Optional(DateTime),
  interval: Type.Optional(StatsInterval),
});

export const AppStatsQuery = Type.Object({
  since: Type.Optional(DateTime),
  until: Type.Optional(DateTime),
  interval: Type.Optional(StatsInterval),
  endpoint_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});

const totalsFields = {
  succeeded: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  /** Successful share of attempts, 0..1; null without attempts. */
  successRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
  p50LatencyMs: Ms,
  p99LatencyMs: Ms,
  avgResponseMs: Ms,
};

export const StatsTotalsOut = named(
  'StatsTotalsOut',
  Type.Object(totalsFields, {
    description:
      'Attempts by outcome; p50/p99 of accepted-to-delivered latency of the successful ones (from a bucketed histogram, exact to the bucket); mean response time of all.',
  }),
);

export const StatsPointOut = named(
  'StatsPointOut',
  Type.Object({ time: DateTime, ...totalsFields }, { description: 'One interval, starting at `time`.' }),
);

export const StatsSeriesOut = named(
  'StatsSeriesOut',
  Type.Object({
    since: DateTime,
    until: DateTime,
    interval: StatsInterval,
    totals: StatsTotalsOut,
    series: Type.Array(StatsPointOut),
  }),
);

export const EndpointAlertOut = named(
  'EndpointAlertOut',
  Type.Object({
    appId: Type.String(),
    endpointId: Type.String(),
    url: Type.String(),
    since: Type.Union([DateTime, Type.Null()]),
  }),
);

export const StatsOverviewOut = named(
  'StatsOverviewOut',
  Type.Object({
    lastHour: StatsSeriesOut,
    lastDay: StatsTotalsOut,
    backlog: Type.Object({
      due: Type.Integer({ minimum: 0 }),
      scheduledRetries: Type.Integer({ minimum: 0 }),
      countLimit: Type.Integer({
        minimum: 1,
        description: 'The counts stop here: a count equal to it means at least that many.',
      }),
    }),
    failingEndpoints: Type.Array(EndpointAlertOut),
    openCircuits: Type.Array(EndpointAlertOut),
    disabledEndpoints: Type.Array(EndpointAlertOut),
  }),
);

export const EndpointStatsSummaryOut = named(
  'EndpointStatsSummaryOut',
  Type.Object({
    endpointId: Type.String(),
    lastAttemptAt: Type.Union([DateTime, Type.Null()]),
    ...totalsFields,
  }),
);

export const AppEndpointStatsOut = named(
  'AppEndpointStatsOut',
  Type.Object({ since: DateTime, until: DateTime, data: Type.Array(EndpointStatsSummaryOut) }),
);

export const EndpointHealthOut = named(
  'EndpointHealthOut',
  Type.Object({
    circuit: Type.Union([Type.Literal('closed'), Type.Literal('open')]),
    failingSince: Type.Union([DateTime, Type.Null()]),
    lastSuccessAt: Type.Union([DateTime, Type.Null()]),
    unreachableCount: Type.Integer({ minimum: 0 }),
    nextProbeAt: Type.Union([DateTime, Type.Null()]),
    pausedUntil: Type.Union([DateTime, Type.Null()]),
  }),
);

// The operator explorer and live tail (routes/explore.ts).
export const ExplorerQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, default: 50 })),
  iterator: Type.Optional(Type.String({ maxLength: 256 })),
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
  app_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  event_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 100 })),
  channel: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: Type.Optional(Type.Integer({ enum: [0, 1, 2, 3] })),
  q: Type.Optional(
    Type.String({ minLength: 1, maxLength: 256, description: 'A message id or eventId: finds it at once.' }),
  ),
  with_content: Type.Optional(Type.Boolean({ default: false })),
});

export const ExplorerMessageOut = named(
  'ExplorerMessageOut',
  Type.Object(
    {
      id: Type.String(),
      appId: Type.String(),
      eventId: Type.Union([Type.String(), Type.Null()]),
      eventType: Type.String(),
      channels: Type.Union([Type.Array(Type.String()), Type.Null()]),
      timestamp: DateTime,
      payload: Type.Object({}, { additionalProperties: true }),
    },
    { description: 'A message with the application it belongs to.' },
  ),
);

export const ExplorerListOut = named(
  'ListResponse_ExplorerMessageOut_',
  Type.Object({
    data: Type.Array(ExplorerMessageOut),
    iterator: Type.Union([Type.String(), Type.Null()]),
    prevIterator: Type.Union([Type.String(), Type.Null()]),
    done: Type.Boolean(),
    partial: Type.Boolean({
      description:
        'true when the page stopped after examining 10,000 messages without filling up: `iterator` continues the search.',
    }),
  }),
);

export const LiveQuery = Type.Object({
  paused: Type.Optional(Type.Boolean({ default: false })),
});

export const AttemptRequestOut = named(
  'AttemptRequestOut',
  Type.Object(
    {
      method: Type.Literal('POST'),
      url: Type.String(),
      headers: Type.Record(Type.String(), Type.String()),
      body: Type.Union([Type.String(), Type.Null()]),
      exact: Type.Boolean({
        description:
          'true when the endpoint is unchanged since the attempt, so this is byte for byte what was sent; false when its secret or headers may have changed since (the request is rebuilt from the current ones).',
      }),
      responseHeaders: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()], {
        description:
          "The receiver's response headers as recorded with the attempt (at most 64, values cut to 1,024 characters); null without an HTTP response, for attempts made before Hookyard recorded them, and once retention emptied the response.",
      }),
    },
    {
      description:
        'The request of an attempt as it was signed, rebuilt from the stored message and endpoint.',
    },
  ),
);
