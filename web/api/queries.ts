import { queryOptions } from '@tanstack/react-query';
import { type Api, qs } from './client.ts';
import type {
  AppEndpointStatsOut,
  ApplicationOut,
  AttemptRequestOut,
  EndpointHeadersOut,
  EndpointHealthOut,
  EndpointMessageOut,
  EndpointOut,
  EventTypeOut,
  ListResponse,
  MessageAttemptOut,
  MessageEndpointOut,
  MessageOut,
  StatsOverviewOut,
  StatsSeriesOut,
} from './types.ts';

/**
 * Every server read of the dashboard as a TanStack Query option set, keyed by resource so that a
 * mutation invalidates exactly what it changed (`['apps', appId]` covers everything of one
 * application). The same objects prefetch on the server and read in the browser.
 */
export interface ExplorerMessage extends MessageOut {
  appId: string;
}

export interface ExplorerFilters {
  q?: string | undefined;
  app?: string | undefined;
  eventType?: string | undefined;
  channel?: string | undefined;
  status?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
  iterator?: string | undefined;
}

/** The explorer's page: `partial` when the server stopped at its scan limit before filling it. */
export interface ExplorerPage extends ListResponse<ExplorerMessage> {
  partial: boolean;
}

export const PAGE_SIZE = 20;

export const keys = {
  overview: ['stats', 'overview'] as const,
  apps: (search: string, iterator: string | undefined) => ['apps', 'list', search, iterator ?? ''] as const,
  app: (appId: string) => ['apps', appId] as const,
  eventTypes: (archived: boolean) => ['event-types', archived] as const,
  explorer: (filters: ExplorerFilters) => ['explorer', filters] as const,
};

export const queries = {
  overview: (api: Api) =>
    queryOptions({ queryKey: keys.overview, queryFn: () => api.get<StatsOverviewOut>('/stats/overview') }),

  applications: (api: Api, search: string, iterator?: string) =>
    queryOptions({
      queryKey: keys.apps(search, iterator),
      queryFn: () =>
        api.get<ListResponse<ApplicationOut>>(`/app${qs({ limit: PAGE_SIZE, search, iterator })}`),
    }),

  application: (api: Api, appId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'detail'],
      queryFn: () => api.get<ApplicationOut>(`/app/${encodeURIComponent(appId)}`),
    }),

  endpoints: (api: Api, appId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'endpoints'],
      queryFn: () =>
        api.get<ListResponse<EndpointOut>>(`/app/${encodeURIComponent(appId)}/endpoint?limit=250`),
    }),

  appEndpointStats: (api: Api, appId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'stats', 'endpoints'],
      queryFn: () => api.get<AppEndpointStatsOut>(`/app/${encodeURIComponent(appId)}/stats/endpoints`),
    }),

  series: (api: Api, appId: string, endpointId: string | undefined, range: '1h' | '24h') =>
    queryOptions({
      queryKey: [...keys.app(appId), 'stats', 'series', endpointId ?? '', range],
      queryFn: () => {
        const since = new Date(Date.now() - (range === '1h' ? 3_600_000 : 86_400_000)).toISOString();
        return api.get<StatsSeriesOut>(
          `/app/${encodeURIComponent(appId)}/stats/timeseries${qs({
            endpoint_id: endpointId,
            since,
            interval: range === '1h' ? '1m' : '15m',
          })}`,
        );
      },
    }),

  appMessages: (api: Api, appId: string, iterator?: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'messages', iterator ?? ''],
      queryFn: () =>
        api.get<ListResponse<MessageOut>>(
          `/app/${encodeURIComponent(appId)}/msg${qs({ limit: PAGE_SIZE, iterator, with_content: false })}`,
        ),
    }),

  endpoint: (api: Api, appId: string, endpointId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'endpoint', endpointId],
      queryFn: () =>
        api.get<EndpointOut>(`/app/${encodeURIComponent(appId)}/endpoint/${encodeURIComponent(endpointId)}`),
    }),

  endpointHeaders: (api: Api, appId: string, endpointId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'endpoint', endpointId, 'headers'],
      queryFn: () =>
        api.get<EndpointHeadersOut>(
          `/app/${encodeURIComponent(appId)}/endpoint/${encodeURIComponent(endpointId)}/headers`,
        ),
    }),

  endpointHealth: (api: Api, appId: string, endpointId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'endpoint', endpointId, 'health'],
      queryFn: () =>
        api.get<EndpointHealthOut>(
          `/app/${encodeURIComponent(appId)}/endpoint/${encodeURIComponent(endpointId)}/health`,
        ),
    }),

  endpointAttempts: (api: Api, appId: string, endpointId: string, iterator?: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'endpoint', endpointId, 'attempts', iterator ?? ''],
      queryFn: () =>
        api.get<ListResponse<MessageAttemptOut>>(
          `/app/${encodeURIComponent(appId)}/attempt/endpoint/${encodeURIComponent(endpointId)}${qs({
            limit: PAGE_SIZE,
            iterator,
            with_content: false,
          })}`,
        ),
    }),

  message: (api: Api, appId: string, msgId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'message', msgId],
      queryFn: () =>
        api.get<MessageOut>(`/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}`),
    }),

  messageEndpoints: (api: Api, appId: string, msgId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'message', msgId, 'endpoints'],
      queryFn: () =>
        api.get<ListResponse<MessageEndpointOut>>(
          `/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}/endpoint?limit=250`,
        ),
    }),

  messageAttempts: (api: Api, appId: string, msgId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'message', msgId, 'attempts'],
      queryFn: () =>
        api.get<ListResponse<MessageAttemptOut>>(
          `/app/${encodeURIComponent(appId)}/attempt/msg/${encodeURIComponent(msgId)}?limit=250&with_content=false`,
        ),
    }),

  attempt: (api: Api, appId: string, msgId: string, attemptId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'message', msgId, 'attempt', attemptId],
      queryFn: () =>
        api.get<MessageAttemptOut>(
          `/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}/attempt/${encodeURIComponent(attemptId)}`,
        ),
    }),

  attemptRequest: (api: Api, appId: string, msgId: string, attemptId: string) =>
    queryOptions({
      queryKey: [...keys.app(appId), 'message', msgId, 'attempt', attemptId, 'request'],
      queryFn: () =>
        api.get<AttemptRequestOut>(
          `/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}/attempt/${encodeURIComponent(attemptId)}/request`,
        ),
    }),

  eventTypes: (api: Api, archived: boolean) =>
    queryOptions({
      queryKey: keys.eventTypes(archived),
      queryFn: () =>
        api.get<ListResponse<EventTypeOut>>(
          `/event-type${qs({ limit: 250, include_archived: archived, with_content: true })}`,
        ),
    }),

  explorer: (api: Api, filters: ExplorerFilters) =>
    queryOptions({
      queryKey: keys.explorer(filters),
      queryFn: () =>
        api.get<ExplorerPage>(
          `/msg${qs({
            limit: PAGE_SIZE,
            q: filters.q,
            app_id: filters.app,
            event_types: filters.eventType ? [filters.eventType] : undefined,
            channel: filters.channel,
            status: filters.status,
            after: filters.after ? new Date(filters.after).toISOString() : undefined,
            before: filters.before ? new Date(filters.before).toISOString() : undefined,
            iterator: filters.iterator,
          })}`,
        ),
    }),
};

export type { EndpointMessageOut };
