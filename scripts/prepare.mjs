// `npm ci` / `npm install` lifecycle (`prepare`): builds the dashboard when the dev dependencies are
// installed (they bring Vite and the pinned Node 24 that runs the TypeScript build script). A
// production-only install (`npm ci --omit=dev`, the image's dependency stage) has neither and may run
// on an older system Node, so this file is plain JavaScript and skips: that install gets dist/web
// from a build stage (`npm run build`).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  require.resolve('vite');
} catch {
  process.stdout.write(
    'prepare: Vite is not installed (production install); the dashboard build is skipped\n',
  );
  process.exit(0);
}
const result = spawnSync(process.execPath, [new URL('./build-web.ts', import.meta.url).pathname], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
// Loading the program once fills Node's module compile cache (src/cli/hookyard.mjs says why), so the
// first `npm start` after an install is already a warm one. Only an optimisation: a failure is ignored.
spawnSync(process.execPath, [new URL('../src/cli/hookyard.mjs', import.meta.url).pathname, '--version'], {
  stdio: 'ignore',
});
process.exit(0);
