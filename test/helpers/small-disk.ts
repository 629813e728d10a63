import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small filesystem of its own, so a test can fill it without touching the machine's disks. */
export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the disk has no room left; returns the bytes written. */
  fill(): number;
  /** Deletes the filler file. */
  free(): void;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `sizeMiB` (needs root), or else a loop-mounted ext4 image; `{ skip }` says why
 * neither was possible.
 */
export function mountSmallDisk(sizeMiB: number): SmallDisk | { skip: string } {
  const base = mkdtempSync(join(tmpdir(), 'hookyard-small-disk-'));
  const dir = join(base, 'mnt');
  execFileSync('mkdir', ['-p', dir]);
  let unmount: () => void;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: 'pipe' });
    unmount = () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  } catch (tmpfsError) {
    const image = join(base, 'disk.img');
    try {
      execFileSync('truncate', ['-s', `${sizeMiB}M`, image], { stdio: 'pipe' });
      execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
      execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'pipe' });
      unmount = () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch (loopError) {
      rmSync(base, { recursive: true, force: true });
      return {
        skip: `cannot mount a small disk here (tmpfs: ${String((tmpfsError as Error).message).split('\n')[0]}; loop: ${String((loopError as Error).message).split('\n')[0]})`,
      };
    }
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch {
        // ENOSPC: the disk is full. Top it off with what still fits, in small pieces.
        for (const size of [4096, 512, 1]) {
          try {
            for (;;) written += writeSync(fd, chunk.subarray(0, size));
          } catch {
            // Full at this granularity too.
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        unmount();
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}
