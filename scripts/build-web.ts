/**
 * Builds the dashboard into dist/web (client bundle with gzip/brotli twins, and the server entry).
 * Run by `npm ci` / `npm install` through the `prepare` script, so `npm start` finds it built.
 */
import { buildDashboard } from '../src/ui/ui-runtime.ts';

await buildDashboard((line) => process.stdout.write(`${line}\n`));
