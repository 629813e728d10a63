import { dehydrate } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import type { RenderRequest } from '../../../src/ui/render-contract.ts';
import { createApi } from '../../api/client.ts';
import type { ApplicationOut } from '../../api/types.ts';
import { serializeState } from '../../app/document.tsx';
import { createPageLoader } from '../../app/page-loader.tsx';
import { createQueryClient } from '../../app/query-client.ts';
import { PortalApp, type PortalPageState } from './portal-app.tsx';
import { matchPortalRoute, portalNotFound, stripPortalBase } from './portal-routes.ts';
import { themeFrom } from './theme.ts';

/** What the portal's document hands the browser (the dashboard's `PageState` with `portal` set). */
export interface PortalDocumentState {
  csrfToken: '';
  assets: { stylesheets: string[]; preloads: string[] };
  dehydrated: unknown;
  portal: PortalPageState;
}

/**
 * Renders a /portal page on the server. Without a session only the frame is rendered (the browser
 * opens the session from the link's key); with one, the page's queries are prefetched through the API
 * with that token, exactly as the dashboard's are with the visitor's cookie.
 */
export async function renderPortalElement(
  request: RenderRequest,
): Promise<{ element: ReactElement; status: number }> {
  const url = new URL(request.url, 'http://hookyard.invalid');
  const session = request.portal?.session ?? null;
  const api = createApi(request.api);
  const queryClient = createQueryClient(true);
  const pages = createPageLoader();
  let status = 200;
  let preloads: readonly string[] = [];
  let metadata: Record<string, string> = {};
  let appName: string | null = null;
  if (session) {
    const { route, params } = matchPortalRoute(stripPortalBase(url.pathname), session.appId);
    if (route === portalNotFound) status = 404;
    const [app] = await Promise.all([
      api.get<ApplicationOut>(`/app/${encodeURIComponent(session.appId)}`).catch(() => undefined),
      pages.preload(route),
      ...(route.prefetch?.(queryClient, api, params, url.searchParams) ?? []),
    ]);
    if (app) {
      metadata = app.metadata;
      appName = app.name;
    }
    preloads = request.assets.modulePreloads(route.module);
    // Another application's (or a missing) resource: the page says so, and so does the status.
    const missing = queryClient
      .getQueryCache()
      .getAll()
      .some((query) => (query.state.error as { status?: number } | null)?.status === 404);
    if (missing || !app) status = 404;
  }
  const state: PortalDocumentState = {
    csrfToken: '',
    assets: { stylesheets: [...request.assets.stylesheets], preloads: [...preloads] },
    dehydrated: dehydrate(queryClient, { shouldDehydrateQuery: () => true }),
    portal: {
      session: session && { ...session, capabilities: [...session.capabilities] },
      theme: themeFrom(url.searchParams, metadata),
      appName,
    },
  };
  const element = (
    <PortalApp
      portal={state.portal}
      assets={state.assets}
      dehydrated={state.dehydrated}
      stateJson={serializeState(state)}
      queryClient={queryClient}
      pages={pages}
      apiFor={() => api}
      nonce={request.nonce}
      ssrPath={url.pathname}
      ssrSearch={url.search.replace(/^\?/, '')}
    />
  );
  return { element, status };
}
