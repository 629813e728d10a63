import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { seriesOf, totalsOf } from '../../domain/stats-summary.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { EndpointAlert } from '../../storage/contract.ts';
import { type ApiContext, loadApp, loadEndpoint, parseTime } from '../context.ts';
import { AppParams, EndpointParams } from '../schemas.ts';
import { iso } from '../serialize.ts';
import {
  AppEndpointStatsOut,
  AppStatsQuery,
  EndpointHealthOut,
  type StatsInterval,
  StatsOverviewOut,
  StatsRangeQuery,
  StatsSeriesOut,
} from '../stats-schemas.ts';

/**
 * The stats API, a Hookyard addition: delivery counts, success rate and latency read from the
 * per-minute rollup (storage `stats`), for the dashboard and anyone else. Server-wide views are admin
 * only; application views accept that application's portal token too.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVAL_MS: Record<Static<typeof StatsInterval>, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': HOUR,
};
/** At most this many points per series: a day at 1m, a month at 1h. */
const MAX_POINTS = 1_440;
const ALERT_LIMIT = 50;
/** The backlog's counts stop here (the overview shows "10,000+"). */
const BACKLOG_COUNT_LIMIT = 10_000;

interface Range {
  since: number;
  until: number;
  interval: Static<typeof StatsInterval>;
}

/** Defaults to the last hour by minute; refuses inverted ranges and series longer than MAX_POINTS. */
function rangeOf(query: Static<typeof StatsRangeQuery>, now: number): Range {
  const until = parseTime(query.until) ?? now;
  const since = parseTime(query.since) ?? until - HOUR;
  if (since >= until) throw ApiError.validation(['query', 'since'], 'since must be before until');
  const interval = query.interval ?? (until - since > DAY ? '1h' : '1m');
  if ((until - since) / INTERVAL_MS[interval] > MAX_POINTS)
    throw ApiError.validation(
      ['query', 'interval'],
      `that range at ${interval} is more than ${MAX_POINTS} points; choose a longer interval`,
    );
  return { since, until, interval };
}

function alertOut(alert: EndpointAlert) {
  return { ...alert, since: alert.since === null ? null : iso(alert.since) };
}

export function statsRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  async function series(scope: { appId?: string; endpointId?: string }, range: Range) {
    const minutes = await ctx.storage.stats.series(
      scope,
      range.since,
      range.until,
      INTERVAL_MS[range.interval],
    );
    return {
      since: iso(range.since),
      until: iso(range.until),
      interval: range.interval,
      totals: totalsOf(minutes),
      series: seriesOf(minutes, range.since, range.until, INTERVAL_MS[range.interval]).map(
        ({ start, ...totals }) => ({ time: iso(start), ...totals }),
      ),
    };
  }

  return async (app) => {
    app.get(
      '/stats/overview',
      {
        config: {
          access: 'admin',
          operationId: 'v1.stats.overview',
          description:
            'Hookyard addition. The whole server at a glance: attempts per minute over the last hour, totals of the last day, the backlog (each count stops at `countLimit`), and the endpoints that need attention (at most 50 of each kind).',
          responses: { 200: StatsOverviewOut },
        },
      },
      async () => {
        const now = ctx.clock();
        const [lastHour, day, backlog, attention] = await Promise.all([
          series({}, { since: now - HOUR, until: now, interval: '1m' }),
          ctx.storage.stats.totals(now - DAY, now),
          ctx.storage.stats.backlog(now, BACKLOG_COUNT_LIMIT),
          ctx.storage.stats.attention(ALERT_LIMIT),
        ]);
        return {
          lastHour,
          lastDay: totalsOf([day]),
          backlog: { ...backlog, countLimit: BACKLOG_COUNT_LIMIT },
          failingEndpoints: attention.failing.map(alertOut),
          openCircuits: attention.openCircuits.map(alertOut),
          disabledEndpoints: attention.disabled.map(alertOut),
        };
      },
    );

    app.get(
      '/stats/timeseries',
      {
        schema: { querystring: StatsRangeQuery },
        config: {
          access: 'admin',
          operationId: 'v1.stats.timeseries',
          description:
            'Hookyard addition. Attempts of every endpoint per interval in [since, until) (default: the last hour by minute; at most 1,440 points).',
          responses: { 200: StatsSeriesOut },
        },
      },
      async (request) => series({}, rangeOf(request.query, ctx.clock())),
    );

    app.get(
      '/app/:app_id/stats/timeseries',
      {
        schema: { params: AppParams, querystring: AppStatsQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.stats.app-timeseries',
          description:
            "Hookyard addition. One application's attempts per interval, or one endpoint's with `endpoint_id`.",
          responses: { 200: StatsSeriesOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const range = rangeOf(request.query, ctx.clock());
        if (request.query.endpoint_id === undefined) return series({ appId: application.id }, range);
        const endpoint = await loadEndpoint(ctx, application, request.query.endpoint_id);
        return series({ endpointId: endpoint.id }, range);
      },
    );

    app.get(
      '/app/:app_id/stats/endpoints',
      {
        schema: { params: AppParams, querystring: StatsRangeQuery },
        config: {
          access: 'app-read',
          operationId: 'v1.stats.app-endpoints',
          description:
            "Hookyard addition. Totals per endpoint of the application over [since, until) (default: the last day), with each endpoint's last attempt; endpoints without attempts in the range are absent.",
          responses: { 200: AppEndpointStatsOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const now = ctx.clock();
        const until = parseTime(request.query.until) ?? now;
        const since = parseTime(request.query.since) ?? until - DAY;
        if (since >= until) throw ApiError.validation(['query', 'since'], 'since must be before until');
        const rows = await ctx.storage.stats.byEndpoint(application.id, since, until);
        return {
          since: iso(since),
          until: iso(until),
          data: rows.map((row) => ({
            endpointId: row.endpointId,
            lastAttemptAt: row.lastAttemptAt === null ? null : iso(row.lastAttemptAt),
            ...totalsOf([row]),
          })),
        };
      },
    );

    app.get(
      '/app/:app_id/endpoint/:endpoint_id/health',
      {
        schema: { params: EndpointParams },
        config: {
          access: 'app-read',
          operationId: 'v1.endpoint.get-health',
          description:
            "Hookyard addition. The endpoint's delivery-policy state: circuit, failure streak, backpressure pause (docs/delivery-policies.md).",
          responses: { 200: EndpointHealthOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const endpoint = await loadEndpoint(ctx, application, request.params.endpoint_id);
        const health = await ctx.storage.endpoints.health(endpoint.id);
        const at = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : iso(ms));
        return {
          circuit: health?.circuit ?? 'closed',
          failingSince: at(health?.failSince),
          lastSuccessAt: at(health?.lastSuccessAt),
          unreachableCount: health?.unreachableCount ?? 0,
          nextProbeAt: at(health?.nextProbeAt),
          pausedUntil: at(health?.pausedUntil),
        };
      },
    );
  };
}
