import type { QueryClient } from '@tanstack/react-query';
import type { ComponentType } from 'react';
import type { Api } from '../api/client.ts';
import { queries } from '../api/queries.ts';
import { explorerFilters } from '../features/messages/explorer-filters.ts';

/**
 * The route table. Each page is its own chunk (`load`), named by its source path so the server can
 * preload exactly that chunk (`module`, a key of Vite's manifest). `prefetch` names the queries the
 * page reads first: the server awaits them before rendering, so the HTML already holds the data, and
 * dehydrates them for the browser, which then renders the same tree without fetching again.
 */
export interface PageProps {
  readonly params: Readonly<Record<string, string>>;
}

export interface RouteDef {
  readonly id: string;
  readonly pattern: string;
  readonly module: string;
  readonly title: string;
  load(): Promise<{ default: ComponentType<PageProps> }>;
  prefetch?(
    qc: QueryClient,
    api: Api,
    params: Record<string, string>,
    search: URLSearchParams,
  ): Promise<unknown>[];
}

export const routes: readonly RouteDef[] = [
  {
    id: 'overview',
    pattern: '/',
    module: 'features/overview/overview-page.tsx',
    title: 'Overview',
    load: () => import('../features/overview/overview-page.tsx'),
    prefetch: (qc, api) => [qc.prefetchQuery(queries.overview(api))],
  },
  {
    id: 'applications',
    pattern: '/apps',
    module: 'features/applications/applications-page.tsx',
    title: 'Applications',
    load: () => import('../features/applications/applications-page.tsx'),
    prefetch: (qc, api, _params, search) => [
      qc.prefetchQuery(
        queries.applications(api, search.get('search') ?? '', search.get('iterator') ?? undefined),
      ),
    ],
  },
  {
    id: 'application',
    pattern: '/apps/:appId',
    module: 'features/applications/application-page.tsx',
    title: 'Application',
    load: () => import('../features/applications/application-page.tsx'),
    prefetch: (qc, api, { appId = '' }, search) => [
      qc.prefetchQuery(queries.application(api, appId)),
      qc.prefetchQuery(queries.endpoints(api, appId)),
      qc.prefetchQuery(queries.appEndpointStats(api, appId)),
      qc.prefetchQuery(queries.series(api, appId, undefined, '24h')),
      qc.prefetchQuery(queries.appMessages(api, appId, search.get('iterator') ?? undefined)),
    ],
  },
  {
    id: 'endpoint',
    pattern: '/apps/:appId/endpoints/:endpointId',
    module: 'features/endpoints/endpoint-page.tsx',
    title: 'Endpoint',
    load: () => import('../features/endpoints/endpoint-page.tsx'),
    prefetch: (qc, api, { appId = '', endpointId = '' }, search) => [
      qc.prefetchQuery(queries.endpoint(api, appId, endpointId)),
      qc.prefetchQuery(queries.endpointHeaders(api, appId, endpointId)),
      qc.prefetchQuery(queries.endpointHealth(api, appId, endpointId)),
      qc.prefetchQuery(queries.series(api, appId, endpointId, '24h')),
      qc.prefetchQuery(queries.endpointAttempts(api, appId, endpointId, search.get('iterator') ?? undefined)),
      qc.prefetchQuery(queries.eventTypes(api, false)),
    ],
  },
  {
    id: 'explorer',
    pattern: '/messages',
    module: 'features/messages/explorer-page.tsx',
    title: 'Messages',
    load: () => import('../features/messages/explorer-page.tsx'),
    prefetch: (qc, api, _params, search) => [
      qc.prefetchQuery(queries.explorer(api, explorerFilters(search))),
    ],
  },
  {
    id: 'message',
    pattern: '/apps/:appId/messages/:msgId',
    module: 'features/messages/message-page.tsx',
    title: 'Message',
    load: () => import('../features/messages/message-page.tsx'),
    prefetch: (qc, api, { appId = '', msgId = '' }) => [
      qc.prefetchQuery(queries.message(api, appId, msgId)),
      qc.prefetchQuery(queries.messageEndpoints(api, appId, msgId)),
      qc.prefetchQuery(queries.messageAttempts(api, appId, msgId)),
    ],
  },
  {
    id: 'attempt',
    pattern: '/apps/:appId/messages/:msgId/attempts/:attemptId',
    module: 'features/messages/attempt-page.tsx',
    title: 'Attempt',
    load: () => import('../features/messages/attempt-page.tsx'),
    prefetch: (qc, api, { appId = '', msgId = '', attemptId = '' }) => [
      qc.prefetchQuery(queries.attempt(api, appId, msgId, attemptId)),
      qc.prefetchQuery(queries.attemptRequest(api, appId, msgId, attemptId)),
    ],
  },
  {
    id: 'event-types',
    pattern: '/event-types',
    module: 'features/event-types/event-types-page.tsx',
    title: 'Event types',
    load: () => import('../features/event-types/event-types-page.tsx'),
    prefetch: (qc, api, _params, search) => [
      qc.prefetchQuery(queries.eventTypes(api, search.get('archived') === '1')),
    ],
  },
  {
    id: 'live',
    pattern: '/live',
    module: 'features/live/live-page.tsx',
    title: 'Live tail',
    load: () => import('../features/live/live-page.tsx'),
  },
];

export const notFoundRoute: RouteDef = {
  id: 'not-found',
  pattern: '',
  module: 'features/not-found/not-found-page.tsx',
  title: 'Not found',
  load: () => import('../features/not-found/not-found-page.tsx'),
};

/** `/apps/:appId` against `/apps/app_1`; parameters are URL-decoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index++) {
    const segment = want[index] as string;
    const value = have[index] as string;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) return undefined;
  }
  return params;
}

export function matchRoute(path: string): { route: RouteDef; params: Record<string, string> } {
  for (const route of routes) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return { route: notFoundRoute, params: {} };
}
