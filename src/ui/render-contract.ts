/**
 * The contract between the Fastify side (src/ui/) and the React server entry (web/app/entry-server.tsx),
 * which Vite builds into dist/web/server. Types only: each side is built and run on its own.
 */

/** One call to the public API, made in-process (`app.inject`) with the visitor's own cookie. */
export type ApiTransport = (request: {
  method: string;
  /** Below /api/v1, e.g. `/app?limit=20`. */
  path: string;
  body?: unknown;
}) => Promise<{ status: number; body: unknown }>;

export interface PageAssets {
  /** Module scripts that boot the page (the client entry; in development also Vite's client). */
  readonly bootstrapModules: readonly string[];
  readonly stylesheets: readonly string[];
  /** The chunks a route's module needs, for `<link rel="modulepreload">`; keyed by source path under web/. */
  modulePreloads(sourcePath: string): readonly string[];
}

export interface RenderRequest {
  /** The path and query under /ui, e.g. `/ui/messages?status=fail`. */
  readonly url: string;
  readonly nonce: string;
  readonly csrfToken: string;
  readonly api: ApiTransport;
  readonly assets: PageAssets;
  /** Shown on the sign-in page after a refused attempt. */
  readonly loginError?: string | undefined;
  /**
   * Set for the App Portal (`/portal/*`): its session when the request carried a valid portal token
   * (`api` then calls with that token), or null (the page opens its session in the browser).
   */
  readonly portal?: { readonly session: PortalSessionInfo | null } | undefined;
}

export interface PortalSessionInfo {
  readonly token: string;
  readonly appId: string;
  readonly capabilities: readonly string[];
  readonly expiresAt: string;
}

export interface RenderResult {
  readonly status: number;
  /** Streams the document into `destination` (an HTTP response), ending it. */
  pipe(destination: NodeJS.WritableStream): void;
  abort(): void;
}

export type RenderPage = (request: RenderRequest) => Promise<RenderResult>;
