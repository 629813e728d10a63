import { statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the embedded database does when its disk fills.
 *
 *     ok ──a write fails for lack of space──► full ──free space ≥ 2 × reserve, reserve re-made──► ok
 *
 * While `ok`, the data directory holds `hookyard.reserve`, a file of `bytes` zeros. The first write
 * that fails for lack of space (SQLITE_FULL, or ENOSPC from the WAL fsync) turns the state `full`: the
 * reserve is deleted, so the space it held is there for the work already accepted (leases, attempt
 * records and their checkpoints), and durable writes (ingest and every API write) are refused with
 * `StorageFull` before they touch the database, so they cannot eat that space. A timer then checks
 * the free space every second; once the reserve fits again with as much to spare, it is re-made and the
 * state is `ok` again. No restart is needed either way.
 */
export interface DiskReserve {
  readonly full: boolean;
  /** A write failed for lack of space. */
  exhausted(): void;
  close(): void;
}

export const RESERVE_FILE = 'hookyard.reserve';
const CHECK_INTERVAL_MS = 1_000;

export function createDiskReserve(dir: string, bytes: number): DiskReserve {
  const path = join(dir, RESERVE_FILE);
  let full = false;
  let timer: NodeJS.Timeout | undefined;

  function remove(): void {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }

  /** Writes the reserve; false (and no partial file) when the disk has no room for it. */
  function make(): boolean {
    if (bytes === 0) return true;
    try {
      writeFileSync(path, Buffer.alloc(bytes));
      return true;
    } catch {
      remove();
      return false;
    }
  }

  function freeBytes(): number {
    try {
      const stats = statfsSync(dir);
      return stats.bavail * stats.bsize;
    } catch {
      return 0;
    }
  }

  function check(): void {
    if (freeBytes() < 2 * bytes || !make()) return;
    full = false;
    if (timer) clearInterval(timer);
    timer = undefined;
  }

  function enterFull(): void {
    if (full) return;
    full = true;
    remove();
    timer = setInterval(check, CHECK_INTERVAL_MS);
    timer.unref();
  }

  if (!make()) enterFull();

  return {
    get full() {
      return full;
    },
    exhausted: enterFull,
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
