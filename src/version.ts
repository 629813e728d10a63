import { readFileSync } from 'node:fs';

/** The package version, read once (the bin and the User-Agent header report it). */
export const version: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
