import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Another Hookyard server already runs on this data directory. */
export class DataDirLocked extends Error {
  override name = 'DataDirLocked';
}

const LOCK_FILE = 'hookyard.pid';
const heldHere = new Set<string>();

/**
 * SQLite has one writer, and the dispatcher keeps leases in memory-backed loops that assume it is the
 * only one (it releases every lease at start-up), so two servers on one data directory would steal each
 * other's work. A pid file excludes the second one; a pid that no longer runs is a crash leftover and is
 * taken over. `hookyard migrate` does not take the lock: SQLite itself serialises its writes.
 * Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const real = realpathSync(dir);
  const path = join(real, LOCK_FILE);
  if (heldHere.has(real)) throw new DataDirLocked(`this process already serves data directory ${real}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      heldHere.add(real);
      return () => {
        heldHere.delete(real);
        try {
          if (readPid(path) === process.pid) unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = readPid(path);
    if (pid !== undefined && pid !== process.pid && isRunning(pid))
      throw new DataDirLocked(
        `another Hookyard server (pid ${pid}) is using data directory ${real}; stop it first, ` +
          'or use PostgreSQL (HOOKYARD_DATABASE_URL) to run several processes',
      );
    try {
      unlinkSync(path);
    } catch {
      // Someone else removed the stale file first; the retry decides.
    }
  }
  throw new DataDirLocked(`could not lock data directory ${real} (${path} keeps reappearing)`);
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
