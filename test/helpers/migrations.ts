import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A folder holding a backend's migrations 1 to `version` only, for tests that build a database as an
 * older Hookyard left it and then migrate it forward. Returns the folder as the URL a driver's
 * `migrationsDir` takes: `migrate({ ...driver, migrationsDir })`.
 */
export async function migrationsUpTo(
  backend: 'sqlite' | 'postgres',
  version: number,
  into: string,
): Promise<URL> {
  await mkdir(into, { recursive: true });
  const from = fileURLToPath(new URL(`../../src/storage/${backend}/migrations/`, import.meta.url));
  for (const name of await readdir(from)) {
    const number = Number(/^(\d+)_/.exec(name)?.[1]);
    if (number >= 1 && number <= version) await copyFile(join(from, name), join(into, name));
  }
  return pathToFileURL(`${into}/`);
}
