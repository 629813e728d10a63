import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const CLI = new URL('../../src/cli/hookyard.mjs', import.meta.url).pathname;

export interface HookyardProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Bearer-authenticated JSON request against the API. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no cleanup at all, as in a crash. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'hookyard-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `hookyard <args>` to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
  /** Added to this process's environment; an undefined value removes the variable. */
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * Starts `hookyard serve` as a child process on a free port and waits until `/api/v1/health`
 * answers. Extra settings come in as HOOKYARD_* environment variables.
 */
export async function startHookyard(env: Record<string, string> = {}): Promise<HookyardProcess> {
  const port = env.HOOKYARD_PORT ?? String(await freePort());
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      ...process.env,
      HOOKYARD_HOST: '127.0.0.1',
      HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      HOOKYARD_LOG_LEVEL: env.HOOKYARD_ROLE === 'worker' ? 'info' : 'warn',
      HOOKYARD_ALLOWED_SUBNETS: '127.0.0.0/8',
      ...env,
      HOOKYARD_PORT: port,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  // Every role serves health (a worker serves only health and /metrics).
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`hookyard exited with ${child.exitCode} during start-up:\n${output}`);
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.status === 200 || res.status === 204) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hookyard did not become healthy within 20 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    child,
    output: () => output,
    async api(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${env.HOOKYARD_ADMIN_TOKEN ?? TEST_ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never };
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}
