/**
 * The boundaries docs/architecture.md promises, checked on the source: they hold only as long as
 * nothing quietly crosses them.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function sources(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(root, path), await readFile(path, 'utf8'));
  }
  return out;
}

function imports(source: string): string[] {
  return [...source.matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((match) => match[1] ?? '');
}

test("only storage/sql/delivery-transitions.ts writes a delivery's state", async () => {
  const writers = [...(await sources('src'))]
    .filter(([, source]) => /\b(UPDATE|INSERT INTO)\s+deliveries\b/i.test(source))
    .map(([path]) => path);
  assert.deepEqual(writers, ['src/storage/sql/delivery-transitions.ts']);
});

test('only storage/sql/ordered-transitions.ts writes ordered delivery state (fifo_state, fifo_queue)', async () => {
  const writers = [...(await sources('src'))]
    .filter(([, source]) => /\b(UPDATE|INSERT INTO|DELETE FROM)\s+fifo_(state|queue)\b/i.test(source))
    .map(([path]) => path);
  assert.deepEqual(writers, ['src/storage/sql/ordered-transitions.ts']);
});

test('src/domain imports nothing outside src/domain but Node built-ins', async () => {
  for (const [path, source] of await sources('src/domain'))
    for (const specifier of imports(source))
      assert.ok(
        specifier.startsWith('node:') || (specifier.startsWith('./') && !specifier.includes('/', 2)),
        `${path} imports ${specifier}`,
      );
});

test('route files do not import each other', async () => {
  for (const [path, source] of await sources('src/api/routes'))
    for (const specifier of imports(source))
      assert.ok(!specifier.startsWith('./'), `${path} imports ${specifier}; share it through api/use-cases/`);
});
