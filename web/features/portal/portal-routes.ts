import { queries } from '../../api/queries.ts';
import { matchPath, type RouteDef } from '../../app/routes.ts';

/**
 * The App Portal's route table, under /portal. The endpoint, message and attempt pages are the
 * dashboard's own (they hide what the token's capabilities do not allow); the home page (the
 * application's endpoints), the message log and the event catalog are the portal's. Every path names
 * the application, as the dashboard's do, so a link copied from a page names what it shows; the API
 * answers 404 for any application but the token's.
 */
const home: Omit<RouteDef, 'pattern'> = {
  id: 'portal-home',
  module: 'features/portal/endpoints-page.tsx',
  title: 'Endpoints',
  load: () => import('./endpoints-page.tsx'),
  prefetch: (qc, api, { appId = '' }) => [
    qc.prefetchQuery(queries.endpoints(api, appId)),
    qc.prefetchQuery(queries.appEndpointStats(api, appId)),
  ],
};

export const portalRoutes: readonly RouteDef[] = [
  { ...home, pattern: '/apps/:appId' },
  {
    id: 'portal-endpoint',
    pattern: '/apps/:appId/endpoints/:endpointId',
    module: 'features/endpoints/endpoint-page.tsx',
    title: 'Endpoint',
    load: () => import('../endpoints/endpoint-page.tsx'),
    prefetch: (qc, api, { appId = '', endpointId = '' }) => [
      qc.prefetchQuery(queries.endpoint(api, appId, endpointId)),
      qc.prefetchQuery(queries.endpointHeaders(api, appId, endpointId)),
      qc.prefetchQuery(queries.endpointHealth(api, appId, endpointId)),
      qc.prefetchQuery(queries.series(api, appId, endpointId, '24h')),
      qc.prefetchQuery(queries.endpointAttempts(api, appId, endpointId)),
      qc.prefetchQuery(queries.eventTypes(api, false)),
    ],
  },
  {
    id: 'portal-messages',
    pattern: '/apps/:appId/messages',
    module: 'features/portal/messages-page.tsx',
    title: 'Messages',
    load: () => import('./messages-page.tsx'),
    prefetch: (qc, api, { appId = '' }, search) => [
      qc.prefetchQuery(queries.appMessages(api, appId, search.get('iterator') ?? undefined)),
    ],
  },
  {
    id: 'portal-message',
    pattern: '/apps/:appId/messages/:msgId',
    module: 'features/messages/message-page.tsx',
    title: 'Message',
    load: () => import('../messages/message-page.tsx'),
    prefetch: (qc, api, { appId = '', msgId = '' }) => [
      qc.prefetchQuery(queries.message(api, appId, msgId)),
      qc.prefetchQuery(queries.messageEndpoints(api, appId, msgId)),
      qc.prefetchQuery(queries.messageAttempts(api, appId, msgId)),
    ],
  },
  {
    id: 'portal-attempt',
    pattern: '/apps/:appId/messages/:msgId/attempts/:attemptId',
    module: 'features/messages/attempt-page.tsx',
    title: 'Attempt',
    load: () => import('../messages/attempt-page.tsx'),
    prefetch: (qc, api, { appId = '', msgId = '', attemptId = '' }) => [
      qc.prefetchQuery(queries.attempt(api, appId, msgId, attemptId)),
      qc.prefetchQuery(queries.attemptRequest(api, appId, msgId, attemptId)),
    ],
  },
  {
    id: 'portal-catalog',
    pattern: '/apps/:appId/event-types',
    module: 'features/portal/event-catalog-page.tsx',
    title: 'Event catalog',
    load: () => import('./event-catalog-page.tsx'),
    // The catalog is shared, but the path names an application: another's is 404 here too.
    prefetch: (qc, api, { appId = '' }) => [
      qc.prefetchQuery(queries.application(api, appId)),
      qc.prefetchQuery(queries.eventTypes(api, false)),
    ],
  },
];

export const portalNotFound: RouteDef = {
  id: 'portal-not-found',
  pattern: '',
  module: 'features/portal/not-found-page.tsx',
  title: 'Not found',
  load: () => import('./not-found-page.tsx'),
};

/** `/` and `/apps` are the token's application's home. */
export function matchPortalRoute(
  path: string,
  appId: string,
): { route: RouteDef; params: Record<string, string> } {
  if (path === '/' || path === '' || path === '/apps')
    return { route: portalRoutes[0] as RouteDef, params: { appId } };
  for (const route of portalRoutes) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return { route: portalNotFound, params: {} };
}

/** `/portal/apps/x?y=1` → `/apps/x`. */
export function stripPortalBase(url: string): string {
  const bare = url.split('?')[0] ?? '/';
  const stripped = bare.startsWith('/portal') ? bare.slice('/portal'.length) : bare;
  return stripped === '' ? '/' : stripped;
}
