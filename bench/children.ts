/**
 * Every process the bench starts goes through here, so that every one of them is stopped when the bench
 * ends, whether it finishes, throws, or is interrupted. Each child is spawned detached (its own process
 * group, id = its pid) and is stopped by that id only: SIGTERM, then SIGKILL after a grace period. On
 * `exit` (synchronous, no time for grace) anything still alive gets SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<string>;
  isAlive(): boolean;
  /** The last lines the process wrote to stdout/stderr, for error messages. */
  tail(lines?: number): string;
  /** The line of its output that best says why it failed: the first error line, else the last lines. */
  why(): string;
  stop(graceMs?: number): Promise<void>;
}

const live = new Map<number, ChildProcess>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone, or the group leader exited first: fall back to the pid itself.
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

process.on('exit', () => {
  for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
});

export interface SpawnOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Where stdout and stderr go (appended). */
  readonly logPath: string;
  /** Called with each stdout line, e.g. to see a readiness line. */
  readonly onLine?: (line: string) => void;
}

export function startChild(options: SpawnOptions): Child {
  const log = createWriteStream(options.logPath, { flags: 'a' });
  const proc = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
  const pid = proc.pid;
  live.set(pid, proc);
  let alive = true;
  let pending = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    if (!options.onLine) return;
    pending += chunk.toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      options.onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<string>((resolve) => {
    proc.on('exit', (code, signal) => {
      alive = false;
      live.delete(pid);
      resolve(signal ?? String(code));
    });
    proc.on('error', (error) => {
      alive = false;
      live.delete(pid);
      log.write(`spawn error: ${error.message}\n`);
      resolve('spawn-error');
    });
  });
  exited.then(() => log.end());
  return {
    name: options.name,
    pid,
    logPath: options.logPath,
    exited,
    isAlive: () => alive,
    tail(lines = 5) {
      try {
        return readFileSync(options.logPath, 'utf8').trim().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    why() {
      const lines = this.tail(60).split('\n');
      // A Node crash prints the stack after a source excerpt; the `...Error: message` line is the cause.
      const cause = lines.find((line) => /^\s*(\w*Error\b|hookyard: )|"level":(50|60)/.test(line));
      return (cause ?? lines.slice(-3).join(' ')).trim().slice(0, 300);
    },
    async stop(graceMs = 3_000) {
      if (!alive) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing it started outlives it.
      killGroup(pid, 'SIGKILL');
    },
  };
}

/** Stops every child still running (used on error paths and on SIGINT). */
export async function stopAllChildren(): Promise<void> {
  const pids = [...live.keys()];
  for (const pid of pids) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 3_000;
  while (live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of live.keys()) killGroup(pid, 'SIGKILL');
}
