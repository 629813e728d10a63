import { HydrationBoundary, type QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, Suspense, useEffect } from 'react';
import { ErrorBoundary } from 'react-error-boundary';
import { Router, useLocation } from 'wouter';
import type { Api } from '../api/client.ts';
import { Layout } from '../components/layout.tsx';
import { PageError } from '../components/panel.tsx';
import { LoginPage } from '../features/auth/login-page.tsx';
import { AppContext, useAppContext } from './app-context.tsx';
import { Document, type DocumentAssets } from './document.tsx';
import type { PageLoader } from './page-loader.tsx';
import { matchRoute } from './routes.ts';

/** What the server hands the browser in the document's state script. */
export interface PageState {
  csrfToken: string;
  assets: DocumentAssets;
  dehydrated: unknown;
  /** Set on the sign-in page. */
  login?: { error: string | null; next: string | null } | undefined;
}

export interface AppProps {
  state: PageState;
  stateJson: string;
  queryClient: QueryClient;
  api: Api;
  pages: PageLoader;
  /** Server only: the request's path and query below /ui. */
  ssrPath?: string | undefined;
  ssrSearch?: string | undefined;
}

/** The matched page in its own error boundary and Suspense boundary (lazy chunks of later navigations). */
function CurrentPage() {
  const [location] = useLocation();
  const { pages } = useAppContext();
  const { route, params } = matchRoute(location);
  const Page = pages.component(route);
  return (
    <>
      <title>{`${route.title} · Hookyard`}</title>
      <ErrorBoundary key={route.id} FallbackComponent={PageError}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Page params={params} />
        </Suspense>
      </ErrorBoundary>
    </>
  );
}

/** Marks the document once hydrated (tests and tools wait for it; nothing reads it in the app). */
function HydratedMarker() {
  useEffect(() => {
    document.documentElement.dataset['hydrated'] = 'true';
  }, []);
  return null;
}

export function App(props: AppProps) {
  const { state } = props;
  const ssr = props.ssrPath === undefined ? {} : { ssrPath: props.ssrPath, ssrSearch: props.ssrSearch ?? '' };
  return (
    <StrictMode>
      <Document assets={state.assets} stateJson={props.stateJson}>
        <AppContext.Provider value={{ api: props.api, csrfToken: state.csrfToken, pages: props.pages }}>
          <QueryClientProvider client={props.queryClient}>
            <HydrationBoundary state={state.dehydrated as never}>
              <HydratedMarker />
              {state.login ? (
                <LoginPage error={state.login.error} next={state.login.next} />
              ) : (
                <Router base="/ui" {...ssr}>
                  <Layout>
                    <CurrentPage />
                  </Layout>
                </Router>
              )}
            </HydrationBoundary>
          </QueryClientProvider>
        </AppContext.Provider>
      </Document>
    </StrictMode>
  );
}

/** `/ui/apps?x=1` → `/apps`. */
export function stripBase(url: string): string {
  const bare = url.split('?')[0] ?? '/';
  const stripped = bare.startsWith('/ui') ? bare.slice(3) : bare;
  return stripped === '' ? '/' : stripped;
}
