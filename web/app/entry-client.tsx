import '@vitejs/plugin-react/preamble';
import '../styles/app.css';
import { hydrateRoot } from 'react-dom/client';
import { browserTransport, createApi } from '../api/client.ts';
import { PortalApp, portalTransport } from '../features/portal/portal-app.tsx';
import { matchPortalRoute, stripPortalBase } from '../features/portal/portal-routes.ts';
import type { PortalDocumentState } from '../features/portal/portal-server.tsx';
import { App, type PageState, stripBase } from './app.tsx';
import { createPageLoader } from './page-loader.tsx';
import { createQueryClient } from './query-client.ts';
import { matchRoute } from './routes.ts';

/**
 * The browser entry: read the state the server rendered with, load the current page's chunk (already
 * modulepreloaded), and hydrate the document. Everything is created here, once per page load.
 */
const element = document.getElementById('hookyard-state');
const stateJson = element?.textContent ?? '{}';
const state = JSON.parse(stateJson) as PageState;
const pages = createPageLoader();
const portal = (state as Partial<PortalDocumentState>).portal;
if (portal) {
  const session = portal.session;
  if (session)
    await pages.preload(matchPortalRoute(stripPortalBase(window.location.pathname), session.appId).route);
  hydrateRoot(
    document,
    <PortalApp
      portal={portal}
      assets={state.assets}
      dehydrated={state.dehydrated}
      stateJson={stateJson}
      queryClient={createQueryClient(false)}
      pages={pages}
      apiFor={(token, onUnauthorized) => createApi(portalTransport(token, onUnauthorized))}
    />,
  );
} else {
  if (!state.login) await pages.preload(matchRoute(stripBase(window.location.pathname)).route);
  hydrateRoot(
    document,
    <App
      state={state}
      stateJson={stateJson}
      queryClient={createQueryClient(false)}
      api={createApi(browserTransport(state.csrfToken))}
      pages={pages}
    />,
  );
}
