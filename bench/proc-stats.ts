/**
 * CPU seconds and peak RSS of the system under test, read from /proc (Linux only).
 *
 * A contender is a set of root pids (its Node processes, and Redis for BullMQ) plus their descendants,
 * and optionally "cpu-only" pids found at sampling time (the PostgreSQL backends serving its database:
 * their CPU is the contender's work, but their RSS is mostly shared_buffers and would be counted once
 * per backend, so it is left out). CPU is measured from `begin()` (after start-up and setup) to `end()`.
 * Peak RSS is the sum of each process's own high-water mark (VmHWM): exact for one process, an upper
 * bound for several (their peaks need not coincide). A sampler every 100 ms also tracks the highest sum
 * of VmRSS, which stands in for processes that exit before `end()`. CPU and bytes written
 * (`write_bytes` of /proc/<pid>/io) are reported for the contender's own processes and for the
 * cpu-only processes separately, so the cost model can say where the work went.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const ticksPerSecond = 100; // USER_HZ on Linux; not exposed to Node, and 100 on every mainstream kernel.

interface ProcSample {
  readonly cpuTicks: number;
  readonly rssKb: number;
  readonly hwmKb: number;
  /** Bytes this process caused to be sent to the storage layer (`write_bytes` of /proc/<pid>/io). */
  readonly writeBytes: number;
}

function readWriteBytes(pid: number): number {
  try {
    return Number(/write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // Another user's process without the right to read it: counted as nothing.
  }
}

function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 (utime, stime, cutime, cstime) are at offsets 11-14 after the name.
    const cpuTicks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuTicks, rssKb, hwmKb, writeBytes: readWriteBytes(pid) };
  } catch {
    return undefined;
  }
}

/** utime + stime (with reaped children) of one process in clock ticks, undefined once it is gone. */
export function readCpuTicks(pid: number): number | undefined {
  return readProc(pid)?.cpuTicks;
}

function childrenOf(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {}
  }
  return children;
}

function withDescendants(roots: readonly number[]): number[] {
  const tree = childrenOf();
  const out = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (out.has(pid)) continue;
    out.add(pid);
    for (const child of tree.get(pid) ?? []) stack.push(child);
  }
  return [...out];
}

export interface StatsTarget {
  /** Node processes (and Redis): CPU and RSS, with descendants. */
  roots(): readonly number[];
  /** Extra processes counted for CPU only (PostgreSQL backends of the contender's database). */
  cpuOnly?(): Promise<readonly number[]>;
  /** Roots whose CPU is also reported on its own, by name (e.g. a Hookyard api and its worker). */
  named?(): readonly { readonly name: string; readonly pid: number }[];
}

export interface StatsResult {
  readonly cpuSeconds: number;
  /** CPU of the roots and their descendants (the contender's own processes). */
  readonly ownCpuSeconds: number;
  /** CPU of the cpu-only processes (PostgreSQL backends). */
  readonly databaseCpuSeconds: number;
  readonly peakRssMb: number;
  /** write_bytes of the contender's own processes (SQLite's WAL and database file, Redis's AOF). */
  readonly ownWriteBytes: number;
  /** write_bytes of the PostgreSQL backends (WAL they flushed themselves, evicted pages). */
  readonly databaseWriteBytes: number;
  /** CPU seconds of each named root (several roots of one name are added up). */
  readonly cpuByName: Readonly<Record<string, number>>;
}

export interface StatsMeter {
  begin(): Promise<void>;
  end(): Promise<StatsResult>;
  stop(): void;
}

export function createStatsMeter(target: StatsTarget): StatsMeter {
  // Last CPU reading per pid (so a process that exits mid-run keeps what it used) and the reading at begin.
  const lastCpu = new Map<number, number>();
  const baseCpu = new Map<number, number>();
  const lastWrite = new Map<number, number>();
  const baseWrite = new Map<number, number>();
  const databasePids = new Set<number>();
  let peakRssKb = 0;
  let rootPids: number[] = [];
  let treeRefreshedAt = 0;

  const sample = () => {
    // Walking /proc for descendants costs a few ms; the tree rarely changes, so refresh it once a second.
    const now = Date.now();
    if (now - treeRefreshedAt > 1_000) {
      rootPids = withDescendants(target.roots());
      treeRefreshedAt = now;
    }
    let rss = 0;
    for (const pid of rootPids) {
      const s = readProc(pid);
      if (!s) continue;
      rss += s.rssKb;
      lastCpu.set(pid, s.cpuTicks);
      lastWrite.set(pid, s.writeBytes);
    }
    peakRssKb = Math.max(peakRssKb, rss);
  };
  const sampleCpuOnly = async () => {
    for (const pid of (await target.cpuOnly?.()) ?? []) {
      const s = readProc(pid);
      if (!s) continue;
      databasePids.add(pid);
      lastCpu.set(pid, s.cpuTicks);
      lastWrite.set(pid, s.writeBytes);
    }
  };

  sample();
  const timer = setInterval(sample, 100);
  timer.unref();

  return {
    async begin() {
      treeRefreshedAt = 0;
      sample();
      await sampleCpuOnly();
      baseCpu.clear();
      for (const [pid, ticks] of lastCpu) baseCpu.set(pid, ticks);
      baseWrite.clear();
      for (const [pid, bytes] of lastWrite) baseWrite.set(pid, bytes);
    },
    async end() {
      treeRefreshedAt = 0;
      sample();
      await sampleCpuOnly();
      clearInterval(timer);
      let ownTicks = 0;
      let databaseTicks = 0;
      for (const [pid, now] of lastCpu) {
        const used = now - (baseCpu.get(pid) ?? 0);
        if (databasePids.has(pid)) databaseTicks += used;
        else ownTicks += used;
      }
      let ownWrite = 0;
      let databaseWrite = 0;
      for (const [pid, now] of lastWrite) {
        const written = now - (baseWrite.get(pid) ?? 0);
        if (databasePids.has(pid)) databaseWrite += written;
        else ownWrite += written;
      }
      let hwm = 0;
      for (const pid of rootPids) hwm += readProc(pid)?.hwmKb ?? 0;
      const cpuByName: Record<string, number> = {};
      for (const { name, pid } of target.named?.() ?? []) {
        const used = ((lastCpu.get(pid) ?? 0) - (baseCpu.get(pid) ?? 0)) / ticksPerSecond;
        cpuByName[name] = (cpuByName[name] ?? 0) + used;
      }
      return {
        cpuByName,
        cpuSeconds: (ownTicks + databaseTicks) / ticksPerSecond,
        ownCpuSeconds: ownTicks / ticksPerSecond,
        databaseCpuSeconds: databaseTicks / ticksPerSecond,
        peakRssMb: Math.max(peakRssKb, hwm) / 1024,
        ownWriteBytes: ownWrite,
        databaseWriteBytes: databaseWrite,
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
