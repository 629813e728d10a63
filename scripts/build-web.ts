/**
 * Builds the dashboard into dist/web (client bundle with gzip/brotli twins, and the server entry).
 * Run by `npm ci` / `npm install` through the `prepare` script, so `npm start` finds it built.
 * `--if-stale` (used by `npm test`) skips the build when dist/web is newer than every source it is
 * built from, so tests never run an old bundle and an unchanged tree costs nothing. A production-only
 * install (`npm ci --omit=dev`, as the image's dependency stage runs) has no Vite: `prepare` then skips,
 * and the build comes from a stage with dev dependencies (`npm run build`).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboard, canBuildDashboard, DIST_DIR, WEB_DIR } from '../src/ui/ui-runtime.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function builtAt(): number {
  try {
    return statSync(join(DIST_DIR, 'server', 'entry-server.js')).mtimeMs;
  } catch {
    return 0;
  }
}

// The web bundle also imports types and the render contract from src/api and src/ui.
const sources = [WEB_DIR, join(ROOT, 'src', 'api'), join(ROOT, 'src', 'ui'), join(ROOT, 'package-lock.json')];
if (!(await canBuildDashboard())) {
  process.stdout.write('dashboard build skipped: Vite (a dev dependency) is not installed\n');
} else if (process.argv.includes('--if-stale') && builtAt() > Math.max(...sources.map(newest))) {
  process.stdout.write('dashboard build is up to date (dist/web)\n');
} else {
  await buildDashboard((line) => process.stdout.write(`${line}\n`));
}
