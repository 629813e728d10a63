import { dehydrate } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { renderToPipeableStream } from 'react-dom/server';
import type { RenderPage, RenderRequest, RenderResult } from '../../src/ui/render-contract.ts';
import { createApi } from '../api/client.ts';
import { renderPortalElement } from '../features/portal/portal-server.tsx';
import { App, type PageState, stripBase } from './app.tsx';
import { serializeState } from './document.tsx';
import { createPageLoader } from './page-loader.tsx';
import { createQueryClient } from './query-client.ts';
import { matchRoute, notFoundRoute } from './routes.ts';

/**
 * The server entry (built to dist/web/server/entry-server.js). Per request: match the route, load its
 * page module and prefetch its queries in parallel (through the public API, with the visitor's
 * cookie), then stream the document. The shell is sent as soon as it is ready (`onShellReady`), and
 * because the page's data and module are already in hand the shell is the complete page: readable
 * without JavaScript, then hydrated from the same dehydrated cache.
 */
export const render: RenderPage = async (request) => {
  if (request.portal) {
    const { element, status } = await renderPortalElement(request);
    return stream(element, request, status);
  }
  const url = new URL(request.url, 'http://hookyard.invalid');
  const path = stripBase(url.pathname);
  const api = createApi(request.api);
  const queryClient = createQueryClient(true);
  const pages = createPageLoader();
  const login = path === '/login';
  let status = 200;
  let preloads: readonly string[] = [];
  if (!login) {
    const { route, params } = matchRoute(path);
    if (route === notFoundRoute) status = 404;
    await Promise.all([
      pages.preload(route),
      ...(route.prefetch?.(queryClient, api, params, url.searchParams) ?? []),
    ]);
    preloads = request.assets.modulePreloads(route.module);
  } else if (request.loginError) {
    status = 401;
  }
  const state: PageState = {
    csrfToken: request.csrfToken,
    assets: { stylesheets: [...request.assets.stylesheets], preloads: [...preloads] },
    // Failed reads too: the browser hydrates the same error panel the server rendered, then retries.
    dehydrated: dehydrate(queryClient, { shouldDehydrateQuery: () => true }),
    login: login ? { error: request.loginError ?? null, next: url.searchParams.get('next') } : undefined,
  };
  const stateJson = serializeState(state);

  return stream(
    <App
      state={state}
      stateJson={stateJson}
      queryClient={queryClient}
      api={api}
      pages={pages}
      ssrPath={url.pathname}
      ssrSearch={url.search.replace(/^\?/, '')}
    />,
    request,
    status,
  );
};

/** Streams a document from `onShellReady` (the dashboard's pages and the App Portal's). */
function stream(element: ReactElement, request: RenderRequest, status: number): Promise<RenderResult> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const stream = renderToPipeableStream(element, {
      nonce: request.nonce,
      bootstrapModules: [...request.assets.bootstrapModules],
      onShellReady() {
        resolve({
          status: failed ? 500 : status,
          pipe: (destination) => stream.pipe(destination),
          abort: () => stream.abort(),
        });
      },
      onShellError: reject,
      onError(error) {
        failed = true;
        console.error(error);
      },
    });
  });
}
