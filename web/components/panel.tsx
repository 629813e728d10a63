import { QueryErrorResetBoundary, type UseQueryOptions, useQuery } from '@tanstack/react-query';
import { type ReactNode, Suspense, useId } from 'react';
import { ErrorBoundary, type FallbackProps } from 'react-error-boundary';

/**
 * A panel of a page: its own heading, its own error boundary and its own Suspense boundary, so a
 * failed read or a crashing widget shows a contained error with a retry while the rest of the page
 * keeps working. `QueryView` renders one query's three states inside it.
 */
export function Panel(props: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  return (
    <section className={`panel ${props.className ?? ''}`} aria-labelledby={id}>
      <div className="panel-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions ? <div className="panel-actions">{props.actions}</div> : null}
      </div>
      <QueryErrorResetBoundary>
        {({ reset }) => (
          <ErrorBoundary onReset={reset} FallbackComponent={PanelFallback}>
            <Suspense fallback={<Loading />}>{props.children}</Suspense>
          </ErrorBoundary>
        )}
      </QueryErrorResetBoundary>
    </section>
  );
}

export function Loading() {
  return <p className="loading">Loading…</p>;
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error)
    return String((error as { message: unknown }).message);
  return 'Something went wrong.';
}

export function PanelErrorMessage(props: { error: unknown; retry: () => void }) {
  return (
    <div className="panel-error" role="alert">
      <p>
        <strong>This panel could not be shown.</strong> {describe(props.error)}
      </p>
      <button type="button" onClick={props.retry}>
        Retry
      </button>
    </div>
  );
}

function PanelFallback({ error, resetErrorBoundary }: FallbackProps) {
  return <PanelErrorMessage error={error} retry={resetErrorBoundary} />;
}

/** A whole page failed to render (the layout and navigation stay). */
export function PageError({ error, resetErrorBoundary }: FallbackProps) {
  return (
    <div className="page-error">
      <h1>This page could not be shown</h1>
      <PanelErrorMessage error={error} retry={resetErrorBoundary} />
    </div>
  );
}

export function QueryView<T>(props: {
  // biome-ignore lint/suspicious/noExplicitAny: the key type of any query option set
  query: UseQueryOptions<T, Error, T, any>;
  children: (data: T) => ReactNode;
}) {
  const result = useQuery(props.query);
  if (result.isPending) return <Loading />;
  if (result.isError) return <PanelErrorMessage error={result.error} retry={() => void result.refetch()} />;
  return <>{props.children(result.data)}</>;
}
