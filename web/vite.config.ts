import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * One config for the three ways the dashboard is built: the client bundle (dist/web/client, with a
 * manifest the server reads to link hashed files and per-route preloads), the server entry
 * (dist/web/server, `build.ssr`), and Vite's dev server in middleware mode (src/ui/ui-runtime.ts).
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../dist/web/', import.meta.url));

/** Writes a .gz and a .br next to every emitted JS/CSS/SVG file, so the server never compresses per request. */
function precompress(): Plugin {
  const gz = promisify(gzip);
  const br = promisify(brotliCompress);
  let outDir = '';
  let files: string[] = [];
  return {
    name: 'hookyard:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    generateBundle(_options, bundle) {
      if (this.environment.name !== 'client') return;
      files = Object.keys(bundle).filter((name) => /\.(js|css|svg)$/.test(name));
    },
    async closeBundle() {
      await Promise.all(
        files.map(async (name) => {
          const path = join(outDir, name);
          const content = await readFile(path);
          await writeFile(`${path}.gz`, await gz(content, { level: 9 }));
          await writeFile(
            `${path}.br`,
            await br(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
          );
        }),
      );
    },
  };
}

export default defineConfig(({ isSsrBuild }) => ({
  root,
  base: '/ui/',
  publicDir: false,
  plugins: [react(), precompress()],
  build: {
    outDir: isSsrBuild ? join(dist, 'server') : join(dist, 'client'),
    emptyOutDir: true,
    manifest: !isSsrBuild,
    sourcemap: false,
    target: 'es2022',
    rollupOptions: {
      input: isSsrBuild ? join(root, 'app/entry-server.tsx') : join(root, 'app/entry-client.tsx'),
    },
  },
}));
