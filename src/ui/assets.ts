import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { PageAssets } from './render-contract.ts';

/**
 * The built dashboard's static files, read into memory at start (the whole bundle is a few hundred
 * KB) with the gzip and brotli twins the build wrote next to them. Every file under assets/ has a
 * content hash in its name, so it is served `immutable` for a year; a new build changes the names.
 */
export interface StaticAsset {
  readonly type: string;
  readonly identity: Buffer;
  readonly gzip: Buffer | undefined;
  readonly brotli: Buffer | undefined;
}

export interface BuiltAssets {
  readonly files: ReadonlyMap<string, StaticAsset>;
  readonly page: PageAssets;
}

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

export const CLIENT_ENTRY = 'app/entry-client.tsx';

async function optional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

/** Loads dist/web/client; `base` is the public path the files are served under (`/ui/`). */
export async function loadBuiltAssets(clientDir: string, base: string): Promise<BuiltAssets> {
  const manifest = JSON.parse(await readFile(join(clientDir, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const files = new Map<string, StaticAsset>();
  const names = new Set<string>();
  for (const chunk of Object.values(manifest)) {
    names.add(chunk.file);
    for (const css of chunk.css ?? []) names.add(css);
  }
  for (const name of names) {
    const path = join(clientDir, name);
    files.set(`${base}${name}`, {
      type: TYPES[extname(name)] ?? 'application/octet-stream',
      identity: await readFile(path),
      gzip: await optional(`${path}.gz`),
      brotli: await optional(`${path}.br`),
    });
  }

  const entry = manifest[CLIENT_ENTRY];
  if (!entry) throw new Error(`the dashboard build has no ${CLIENT_ENTRY} entry; rebuild it (npm run build)`);
  /** The static import closure of a chunk: what must load before it runs. */
  const closure = (key: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(key)) return seen;
    seen.add(key);
    for (const imported of manifest[key]?.imports ?? []) closure(imported, seen);
    return seen;
  };
  const entryClosure = closure(CLIENT_ENTRY);
  const stylesheets = [...entryClosure].flatMap((key) => manifest[key]?.css ?? []).map((css) => base + css);
  // The entry's own imports, preloaded with every page so they are not discovered one by one.
  const entryPreloads = [...entryClosure]
    .filter((key) => key !== CLIENT_ENTRY)
    .map((key) => base + (manifest[key] as ManifestChunk).file);
  const preloads = new Map<string, string[]>();
  return {
    files,
    page: {
      bootstrapModules: [base + entry.file],
      stylesheets,
      modulePreloads(sourcePath) {
        let list = preloads.get(sourcePath);
        if (!list) {
          list = [
            ...entryPreloads,
            ...(manifest[sourcePath]
              ? [...closure(sourcePath)]
                  .filter((key) => !entryClosure.has(key))
                  .map((key) => base + (manifest[key] as ManifestChunk).file)
              : []),
          ];
          preloads.set(sourcePath, list);
        }
        return list;
      },
    },
  };
}

/** The best encoding of `asset` the request accepts: brotli, then gzip, then none. */
export function negotiate(
  asset: StaticAsset,
  acceptEncoding: string | undefined,
): { body: Buffer; encoding: string | undefined } {
  const accepted = (acceptEncoding ?? '').toLowerCase();
  if (asset.brotli && /\bbr\b/.test(accepted)) return { body: asset.brotli, encoding: 'br' };
  if (asset.gzip && /\bgzip\b/.test(accepted)) return { body: asset.gzip, encoding: 'gzip' };
  return { body: asset.identity, encoding: undefined };
}
