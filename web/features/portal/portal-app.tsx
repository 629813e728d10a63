import { HydrationBoundary, type QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, Suspense, useEffect, useMemo, useState } from 'react';
import { ErrorBoundary } from 'react-error-boundary';
import { Link, Router, useLocation } from 'wouter';
import type { Api, ApiTransport } from '../../api/client.ts';
import type { ApplicationOut } from '../../api/types.ts';
import { AppContext, useAppContext } from '../../app/app-context.tsx';
import { Document, type DocumentAssets } from '../../app/document.tsx';
import type { PageLoader } from '../../app/page-loader.tsx';
import { PageError } from '../../components/panel.tsx';
import { matchPortalRoute } from './portal-routes.ts';
import { type PortalTheme, themeCss, themeFrom, themeVariables } from './theme.ts';

/**
 * The App Portal's root: the page a platform embeds so its customer manages their own endpoints.
 *
 * Its session is a portal token held in memory only. A cross-site iframe gets no third-party cookies
 * or storage, so the first request carries nothing: the server renders the frame, and the browser
 * takes the one-time key from the URL fragment (which never reaches a server log or a Referer), removes
 * it from the address, trades it for the token (`POST /api/v1/auth/app-portal-session`) and renders
 * the page through the API with it. Later navigation stays in the page. A request carrying the token
 * (`Authorization: Bearer`) is rendered on the server with its data, like a dashboard page.
 */
export interface PortalSession {
  token: string;
  appId: string;
  capabilities: string[];
  expiresAt: string;
}

export interface PortalPageState {
  session: PortalSession | null;
  theme: PortalTheme;
  /** The application's name, when the server knew the session. */
  appName: string | null;
}

export interface PortalAppProps {
  portal: PortalPageState;
  assets: DocumentAssets;
  dehydrated: unknown;
  stateJson: string;
  queryClient: QueryClient;
  pages: PageLoader;
  /** Makes the API client for a token (server: in-process with that bearer; browser: fetch). */
  apiFor: (token: string | null, onUnauthorized: () => void) => Api;
  nonce?: string | undefined;
  ssrPath?: string | undefined;
  ssrSearch?: string | undefined;
}

/** The browser's transport: `fetch` with the token as bearer, no cookies. */
export function portalTransport(token: string | null, onUnauthorized: () => void): ApiTransport {
  return async ({ method, path, body }) => {
    let response: Response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method,
        credentials: 'omit',
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { status: 503, body: { code: 'network', detail: 'The server did not answer; try again.' } };
    }
    if (response.status === 401) onUnauthorized();
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  };
}

type Phase =
  | { kind: 'ready'; session: PortalSession }
  | { kind: 'opening' }
  | { kind: 'ended'; message: string };

const NO_LINK =
  'Open this page through the link your provider gives you (it signs you in once, and cannot be reused).';
const ENDED = 'Your session has ended. Open the portal again from your provider’s site.';

/** Trades the fragment's one-time key for a session (browser only). */
async function openSession(): Promise<PortalSession | string> {
  const match = /(?:^#|&)key=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (!match?.[1]) return NO_LINK;
  // The key leaves the address bar (and the history entry) before anything else happens.
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  try {
    const response = await fetch('/api/v1/auth/app-portal-session', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ key: match[1] }),
    });
    const body = (await response.json()) as PortalSession & { detail?: string };
    if (!response.ok) return body.detail ?? NO_LINK;
    return body;
  } catch {
    return 'The server did not answer; reload the page to try again.';
  }
}

/** Tells an embedding page (svix-react's `<AppPortal fullSize>`) the portal's height whenever it changes. */
function useParentResize(): void {
  useEffect(() => {
    if (window.parent === window) return;
    let last = -1;
    const post = () => {
      const height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: 'svix.iframe-resizer-height', payload: { height } }, '*');
    };
    const observer = new ResizeObserver(post);
    observer.observe(document.body);
    post();
    return () => observer.disconnect();
  }, []);
}

function PortalPage({ appId }: { appId: string }) {
  const [location] = useLocation();
  const { pages } = useAppContext();
  const { route, params } = matchPortalRoute(location, appId);
  const Page = pages.component(route);
  return (
    <ErrorBoundary key={route.id + location} FallbackComponent={PageError}>
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <Page params={params} />
      </Suspense>
    </ErrorBoundary>
  );
}

function PortalLayout(props: {
  theme: PortalTheme;
  appName: string | null;
  appId: string | null;
  children: React.ReactNode;
}) {
  const [location] = useLocation();
  const app = props.appId ? `/apps/${encodeURIComponent(props.appId)}` : null;
  const nav = app
    ? [
        { href: app, label: 'Endpoints', current: !/\/(messages|event-types)(\/|$)/.test(location) },
        { href: `${app}/messages`, label: 'Messages', current: /\/messages(\/|$)/.test(location) },
        { href: `${app}/event-types`, label: 'Event catalog', current: /\/event-types$/.test(location) },
      ]
    : [];
  const title = props.theme.title ?? props.appName ?? 'Webhooks';
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top portal-top">
        <span className="brand">
          {props.theme.icon ? <img src={props.theme.icon} alt="" className="portal-icon" /> : null}
          {title}
        </span>
        {nav.length > 0 ? (
          <nav aria-label="Main">
            <ul>
              {nav.map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={item.current ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

function HydratedMarker() {
  useEffect(() => {
    document.documentElement.dataset['hydrated'] = 'true';
  }, []);
  return null;
}

export function PortalApp(props: PortalAppProps) {
  const [phase, setPhase] = useState<Phase>(
    props.portal.session ? { kind: 'ready', session: props.portal.session } : { kind: 'opening' },
  );
  const session = phase.kind === 'ready' ? phase.session : null;
  const api = useMemo(
    () => props.apiFor(session?.token ?? null, () => setPhase({ kind: 'ended', message: ENDED })),
    [session, props.apiFor],
  );
  useParentResize();
  const [look, setLook] = useState({ theme: props.portal.theme, appName: props.portal.appName });
  // Opened in the browser: the application's settings (name, theme) come with the session.
  useEffect(() => {
    if (!session || look.appName !== null) return;
    let live = true;
    api
      .get<ApplicationOut>(`/app/${encodeURIComponent(session.appId)}`)
      .then((app) => {
        if (live)
          setLook({
            theme: themeFrom(new URLSearchParams(window.location.search), app.metadata),
            appName: app.name,
          });
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [session, api, look.appName]);
  const theme = look.theme;
  useEffect(() => {
    if (phase.kind !== 'opening') return;
    let live = true;
    void openSession().then((result) => {
      if (!live) return;
      setPhase(
        typeof result === 'string' ? { kind: 'ended', message: result } : { kind: 'ready', session: result },
      );
    });
    return () => {
      live = false;
    };
  }, [phase.kind]);
  // Theme values from the application's settings arrive with the session; the query's were rendered.
  useEffect(() => {
    for (const [name, value] of Object.entries(themeVariables(theme)))
      document.documentElement.style.setProperty(name, value);
  }, [theme]);

  const ssr = props.ssrPath === undefined ? {} : { ssrPath: props.ssrPath, ssrSearch: props.ssrSearch ?? '' };
  const css = themeCss(props.portal.theme);
  const title = theme.title ?? look.appName ?? 'Webhooks';
  return (
    <StrictMode>
      <Document
        assets={props.assets}
        stateJson={props.stateJson}
        theme={theme.mode}
        {...(css ? { styleCss: css, nonce: props.nonce } : {})}
      >
        <title>{title}</title>
        <AppContext.Provider
          value={{ api, csrfToken: '', pages: props.pages, capabilities: session?.capabilities ?? [] }}
        >
          <QueryClientProvider client={props.queryClient}>
            <HydrationBoundary state={props.dehydrated as never}>
              <HydratedMarker />
              <Router base="/portal" {...ssr}>
                <PortalLayout theme={theme} appName={look.appName} appId={session?.appId ?? null}>
                  {session ? (
                    <PortalPage appId={session.appId} />
                  ) : phase.kind === 'ended' ? (
                    <div role="alert" className="panel">
                      <h1>Not signed in</h1>
                      <p>{phase.message}</p>
                    </div>
                  ) : (
                    <p className="loading" role="status">
                      Opening…
                    </p>
                  )}
                </PortalLayout>
              </Router>
            </HydrationBoundary>
          </QueryClientProvider>
        </AppContext.Provider>
      </Document>
    </StrictMode>
  );
}
