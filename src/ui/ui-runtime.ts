import { access } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type BuiltAssets, CLIENT_ENTRY, loadBuiltAssets } from './assets.ts';
import type { PageAssets, RenderPage } from './render-contract.ts';

/**
 * How the dashboard is produced. Production: the Vite build in dist/web (made by `npm ci` through the
 * `prepare` script, or here at start when it is missing), served from memory. Development
 * (`npm run dev`): Vite in middleware mode, which transforms modules on request, re-imports the server
 * entry on each render and pushes component edits to the browser over its HMR socket.
 */
export interface UiRuntime {
  readonly dev: boolean;
  readonly assets: PageAssets;
  /** Production only: hashed files by URL path. */
  readonly files: BuiltAssets['files'] | undefined;
  readonly render: RenderPage;
  /** Development only: Vite's connect middleware (modules, HMR client, @vite/*). */
  readonly middleware:
    | ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void)
    | undefined;
  close(): Promise<void>;
}

export const UI_BASE = '/ui/';
const ROOT = new URL('../../', import.meta.url);
export const WEB_DIR = fileURLToPath(new URL('web/', ROOT));
export const DIST_DIR = fileURLToPath(new URL('dist/web/', ROOT));
const VITE_CONFIG = fileURLToPath(new URL('web/vite.config.ts', ROOT));

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Builds client and server bundles into dist/web (what `npm run build` does). */
export async function buildDashboard(log: (line: string) => void = () => {}): Promise<void> {
  const vite = await import('vite');
  log('building the dashboard (dist/web)');
  await vite.build({ configFile: VITE_CONFIG, logLevel: 'warn' });
  await vite.build({ configFile: VITE_CONFIG, logLevel: 'warn', build: { ssr: true } });
}

/** Whether Vite (a dev dependency) is installed, i.e. the dashboard can be built here. */
export async function canBuildDashboard(): Promise<boolean> {
  try {
    await import('vite');
    return true;
  } catch {
    return false;
  }
}

/**
 * The built dashboard, built first when dist/web is missing. Undefined when it is missing and cannot
 * be built here (a production-only install without a build): the API then runs without it, and
 * `warn` says how to get it.
 */
export async function createProductionUi(
  options: { distDir?: string; log?: (line: string) => void; warn?: (line: string) => void } = {},
): Promise<UiRuntime | undefined> {
  const distDir = options.distDir ?? DIST_DIR;
  const serverEntry = `${distDir}server/entry-server.js`;
  if (!(await exists(serverEntry)) || !(await exists(`${distDir}client/.vite/manifest.json`))) {
    if (distDir !== DIST_DIR) throw new Error(`no dashboard build in ${distDir}`);
    if (!(await canBuildDashboard())) {
      options.warn?.(
        'the dashboard is not built (dist/web) and Vite is not installed here: serving the API without it; build it with npm ci && npm run build',
      );
      return undefined;
    }
    await buildDashboard(options.log);
  }
  const built = await loadBuiltAssets(`${distDir}client/`, UI_BASE);
  // React picks its build when first imported: without this the server would render with the
  // development build (several times slower, and it warns). An explicit NODE_ENV is respected.
  process.env['NODE_ENV'] ??= 'production';
  // The server entry (React and every page) is imported by the first page rendered, not at start-up:
  // about 6 MB of resident memory (143 MB at rest against 149 MB) that a process whose dashboard
  // nobody opens (one that serves only the API to producers) never spends; the first page takes
  // about 70 ms longer. A failed import is retried by the next page.
  let entry: Promise<{ render: RenderPage }> | undefined;
  const loadEntry = () => {
    entry ??= (import(serverEntry) as Promise<{ render: RenderPage }>).catch((error: unknown) => {
      entry = undefined;
      throw error;
    });
    return entry;
  };
  return {
    dev: false,
    assets: built.page,
    files: built.files,
    render: async (request) => (await loadEntry()).render(request),
    middleware: undefined,
    async close() {},
  };
}

export async function createDevelopmentUi(): Promise<UiRuntime> {
  const vite = await import('vite');
  const server = await vite.createServer({
    configFile: VITE_CONFIG,
    server: { middlewareMode: true },
    appType: 'custom',
  });
  return {
    dev: true,
    assets: {
      bootstrapModules: [`${UI_BASE}@vite/client`, `${UI_BASE}${CLIENT_ENTRY}`],
      // Vite injects the CSS the modules import itself in development.
      stylesheets: [],
      modulePreloads: () => [],
    },
    files: undefined,
    async render(request) {
      const entry = (await server.ssrLoadModule('/app/entry-server.tsx')) as { render: RenderPage };
      return entry.render(request);
    },
    middleware: server.middlewares,
    close: () => server.close(),
  };
}
