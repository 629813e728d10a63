/**
 * Regenerates the tables in docs/configuration.md, docs/errors.md and README.md from the settings
 * and error-code registries, so the docs cannot drift from the code. `npm run docs` writes them;
 * test/unit/docs.test.ts fails when a table is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type SettingName, settings } from '../src/config/settings.ts';
import { errorCodes } from '../src/errors/codes.ts';

const escapeCell = (text: string) => text.replaceAll('|', '\\|');

export function settingsTable(): string {
  const rows = (Object.keys(settings) as SettingName[]).map((name) => {
    const s = settings[name];
    const shown = s.default === '' ? '(empty)' : `\`${s.default}\``;
    return `| \`${s.env}\` | \`--${s.flag}\` | ${shown} | ${escapeCell(s.description)} Accepts ${escapeCell(s.accepts)}. |`;
  });
  return ['| Variable | Flag | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function errorsTable(): string {
  const rows = Object.entries(errorCodes).map(
    ([code, { status, message }]) => `| \`${code}\` | ${status} | ${escapeCell(message)} |`,
  );
  return ['| Code | HTTP status | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

const BEGIN = (name: string) => `<!-- generated:${name} (npm run docs) -->`;
const END = (name: string) => `<!-- /generated:${name} -->`;

export function replaceBlock(text: string, name: string, content: string): string {
  const start = text.indexOf(BEGIN(name));
  const end = text.indexOf(END(name));
  if (start === -1 || end === -1) throw new Error(`missing generated:${name} markers`);
  return `${text.slice(0, start + BEGIN(name).length)}\n${content}\n${text.slice(end)}`;
}

export const generatedFiles: ReadonlyArray<{ path: string; blocks: Record<string, () => string> }> = [
  { path: 'README.md', blocks: { settings: settingsTable } },
  { path: 'docs/configuration.md', blocks: { settings: settingsTable } },
  { path: 'docs/errors.md', blocks: { errors: errorsTable } },
];

export function render(root: URL): Map<string, { current: string; expected: string }> {
  const out = new Map<string, { current: string; expected: string }>();
  for (const file of generatedFiles) {
    const current = readFileSync(new URL(file.path, root), 'utf8');
    let expected = current;
    for (const [name, make] of Object.entries(file.blocks)) expected = replaceBlock(expected, name, make());
    out.set(file.path, { current, expected });
  }
  return out;
}

if (import.meta.main) {
  const root = new URL('../', import.meta.url);
  for (const [path, { current, expected }] of render(root)) {
    if (current !== expected) {
      writeFileSync(new URL(path, root), expected);
      process.stdout.write(`updated ${path}\n`);
    }
  }
}
