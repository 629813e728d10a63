/**
 * The contenders as the harness sees them: how to start one for a scenario (fresh state every time),
 * where to send events, which processes to measure, and what it promises about durability.
 *
 * Hookyard is driven only through its CLI and its Svix-compatible HTTP API, never its internals, so
 * the bench measures what a user would run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { request } from 'undici';
import { type Child, startChild } from './children.ts';
import type { CostSource } from './cost.ts';
import type { IngestTarget } from './load.ts';
import type { StatsTarget } from './proc-stats.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const contenderDir = fileURLToPath(new URL('./contenders/', import.meta.url));
export const adminToken = 'bench-admin-token-0123456789abcd'; // 32 characters, fixed so runs are repeatable.
const pgAdminUrl = process.env['BENCH_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisPort = Number(process.env['BENCH_REDIS_PORT'] ?? 6390);

export interface StartContext {
  readonly targets: readonly string[];
  /** A fresh directory for this contender and scenario (logs, data, Redis files). */
  readonly workDir: string;
  /** Delays before each retry after the first attempt. */
  readonly retryDelaysMs: readonly number[];
}

export interface RunningContender {
  readonly ingest: IngestTarget;
  readonly stats: StatsTarget;
  /** Processes to watch: if one exits mid-scenario, the scenario fails instead of waiting out its deadline. */
  readonly children: readonly Child[];
  /** Where the cost model's SQL counters come from (none for contenders without SQL). */
  readonly cost?: CostSource;
  close(): Promise<void>;
}

export interface ContenderDef {
  readonly name: string;
  readonly description: string;
  readonly durability: string;
  readonly isHookyard: boolean;
  /** Left out of a run unless named with --only. */
  readonly optional?: boolean;
  /** Undefined when it can run here, else why not (shown in the report instead of numbers). */
  unavailable(): Promise<string | undefined>;
  start(ctx: StartContext): Promise<RunningContender>;
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a child and resolves once `ready(line)` returns a value, or rejects on exit or timeout. */
async function startAndWait<T>(
  options: Parameters<typeof startChild>[0],
  ready: (line: string) => T | undefined,
  timeoutMs: number,
): Promise<{ child: Child; value: T }> {
  let resolveReady: (value: T) => void = () => {};
  const readyPromise = new Promise<T>((resolve) => {
    resolveReady = resolve;
  });
  const child = startChild({
    ...options,
    onLine: (line) => {
      const value = ready(line);
      if (value !== undefined) resolveReady(value);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      readyPromise,
      child.exited.then((code) => {
        throw new Error(`${options.name} exited (${code}) before it was ready: ${child.why()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${options.name} not ready after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return { child, value };
  } catch (error) {
    await child.stop(1_000);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function databaseUrlFor(name: string): string {
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops (forcibly: leftover sessions of a killed run) and re-creates a bench database. */
async function freshDatabase(name: string): Promise<string> {
  await withAdmin(async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  return databaseUrlFor(name);
}

export async function dropBenchDatabases(): Promise<void> {
  try {
    await withAdmin(async (client) => {
      for (const name of benchDatabases) await client.query(`drop database if exists ${name} with (force)`);
    });
  } catch {
    // PostgreSQL unreachable: nothing was created.
  }
}

const benchDatabases = ['hookyard_bench_gw', 'hookyard_bench_hy'] as const;

/** Drops one bench database (forcibly), if PostgreSQL is reachable at all. */
export async function dropDatabase(name: string): Promise<void> {
  try {
    await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
  } catch {
    // PostgreSQL unreachable: nothing was created.
  }
}

/** PostgreSQL backends serving `database`: their CPU is work done for the contender. */
function backendsOf(database: string): () => Promise<number[]> {
  return async () => {
    try {
      return await withAdmin(async (client) => {
        const res = await client.query<{ pid: number }>(
          'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
          [database],
        );
        return res.rows.map((row) => row.pid);
      });
    } catch {
      return [];
    }
  };
}

let postgresCheck: Promise<string | undefined> | undefined;
function postgresUnavailable(): Promise<string | undefined> {
  postgresCheck ??= withAdmin(async (client) => {
    await client.query('select 1');
    return undefined;
  }).catch((error: Error) => `PostgreSQL not reachable at ${new URL(pgAdminUrl).host}: ${error.message}`);
  return postgresCheck;
}

// ---------------------------------------------------------------------------------------------------
// The contenders written for the bench (bench/contenders/*.ts)

const plainIngest = (origin: string): IngestTarget => ({
  origin,
  path: '/events',
  headers: { 'content-type': 'application/json' },
  wrap: (payload) => payload,
});

async function startScript(
  script: string,
  ctx: StartContext,
  extraEnv: Record<string, string>,
): Promise<{ child: Child; origin: string }> {
  const { child, value: port } = await startAndWait(
    {
      name: script,
      command: process.execPath,
      args: [join(contenderDir, `${script}.ts`)],
      cwd: repoRoot,
      logPath: join(ctx.workDir, `${script}.log`),
      env: {
        ...process.env,
        NODE_ENV: 'production',
        BENCH_TARGETS: ctx.targets.join(','),
        BENCH_RETRY_DELAYS_MS: ctx.retryDelaysMs.join(','),
        BENCH_DELIVERY_TIMEOUT_MS: '300000',
        BENCH_CONNECTIONS_PER_ORIGIN: '64',
        ...extraEnv,
      },
    },
    (line) => {
      try {
        const parsed = JSON.parse(line) as { ready?: boolean; port?: number };
        return parsed.ready ? parsed.port : undefined;
      } catch {
        return undefined;
      }
    },
    20_000,
  );
  return { child, origin: `http://127.0.0.1:${port}` };
}

const bare: ContenderDef = {
  name: 'bare',
  description:
    'node:http ingest that parses the JSON, answers 202 and POSTs the payload on with undici (64 keep-alive connections per receiver), storing nothing, signing nothing: the limit of this machine.',
  durability: 'none: an accepted event lives only in memory until delivered.',
  isHookyard: false,
  unavailable: async () => undefined,
  async start(ctx) {
    const { child, origin } = await startScript('bare', ctx, {});
    return {
      ingest: plainIngest(origin),
      stats: { roots: () => [child.pid] },
      children: [child],
      close: () => child.stop(),
    };
  },
};

const floor: ContenderDef = {
  name: 'floor',
  optional: true,
  description:
    '`bare` plus the two writes durability cannot skip: each event and its deliveries inserted into SQLite and the WAL fsync’d before the 202 (group commit), each delivery marked done when the receiver answers. No framework, signing or attempt history: the most a durable design can reach here.',
  durability: 'fsync’d in SQLite before the 202 (WAL fsync, group commit), like hookyard-sqlite.',
  isHookyard: false,
  unavailable: async () => undefined,
  async start(ctx) {
    const { child, origin } = await startScript('floor', ctx, { BENCH_DATA_DIR: ctx.workDir });
    return {
      ingest: plainIngest(origin),
      stats: { roots: () => [child.pid] },
      children: [child],
      close: () => child.stop(),
    };
  },
};

const ceiling: ContenderDef = {
  name: 'ceiling',
  description: 'Fastify ingest that answers 202 and POSTs at once from memory (undici), storing nothing.',
  durability: 'none: an accepted event lives only in memory until delivered.',
  isHookyard: false,
  unavailable: async () => undefined,
  async start(ctx) {
    const { child, origin } = await startScript('ceiling', ctx, { BENCH_CONCURRENCY: '256' });
    return {
      ingest: plainIngest(origin),
      stats: { roots: () => [child.pid] },
      children: [child],
      close: () => child.stop(),
    };
  },
};

const bullmq: ContenderDef = {
  name: 'bullmq',
  description:
    'Fastify ingest -> BullMQ queue (Redis, appendonly yes, appendfsync everysec) -> BullMQ worker (concurrency 100) posting with undici.',
  durability:
    'Redis AOF with appendfsync everysec: up to ~1 s of acknowledged jobs can be lost if Redis or the machine crashes.',
  isHookyard: false,
  async unavailable() {
    const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) return 'redis-server not found on PATH';
    return undefined;
  },
  async start(ctx) {
    const redisDir = join(ctx.workDir, 'redis');
    await mkdir(redisDir, { recursive: true });
    const { child: redis } = await startAndWait(
      {
        name: 'redis-server',
        command: 'redis-server',
        args: [
          '--port',
          String(redisPort),
          '--bind',
          '127.0.0.1',
          '--dir',
          redisDir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'everysec',
          '--save',
          '',
          '--daemonize',
          'no',
          '--logfile',
          '',
        ],
        logPath: join(ctx.workDir, 'redis.log'),
      },
      (line) => (line.includes('Ready to accept connections') ? true : undefined),
      10_000,
    );
    try {
      const { child, origin } = await startScript('bullmq', ctx, {
        BENCH_CONCURRENCY: '100',
        BENCH_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      });
      return {
        ingest: plainIngest(origin),
        // Redis holds the queue in its memory: it is part of the system under test.
        stats: { roots: () => [child.pid, redis.pid] },
        children: [child, redis],
        async close() {
          await child.stop();
          await redis.stop();
        },
      };
    } catch (error) {
      await redis.stop();
      throw error;
    }
  },
};

const pgqueue: ContenderDef = {
  name: 'pgqueue',
  description:
    'Fastify ingest -> graphile-worker jobs in PostgreSQL -> graphile-worker runner (concurrency 100) posting with undici; outcomes inserted into a table.',
  durability: 'committed in PostgreSQL before the 202 (fsync on commit).',
  isHookyard: false,
  unavailable: postgresUnavailable,
  async start(ctx) {
    const databaseUrl = await freshDatabase('hookyard_bench_gw');
    const { child, origin } = await startScript('pgqueue', ctx, {
      BENCH_CONCURRENCY: '100',
      BENCH_DATABASE_URL: databaseUrl,
    });
    return {
      ingest: plainIngest(origin),
      stats: { roots: () => [child.pid], cpuOnly: backendsOf('hookyard_bench_gw') },
      cost: { postgres: { adminUrl: pgAdminUrl, database: 'hookyard_bench_gw' } },
      children: [child],
      close: () => child.stop(),
    };
  },
};

// ---------------------------------------------------------------------------------------------------
// Hookyard, through its CLI and HTTP API

const hookyardEntry = join(repoRoot, 'src/cli/hookyard.mjs');
const countingPreload = join(repoRoot, 'bench/instrument/count-queries.ts');
const hookyardApp = 'bench';

let hookyardCheck: Promise<string | undefined> | undefined;
function hookyardUnavailable(): Promise<string | undefined> {
  hookyardCheck ??= (async () => {
    for (const file of [
      'src/storage/create-storage.ts',
      'src/dispatch/dispatcher.ts',
      'src/api/build-app.ts',
    ]) {
      if (!existsSync(join(repoRoot, file))) return `not built yet (${file} missing)`;
    }
    const help = spawnSync(process.execPath, [hookyardEntry, '--help'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (help.status !== 0) {
      const output = `${help.stderr ?? ''}${help.stdout ?? ''}`.trim().split('\n');
      const why = (output.find((line) => /^\s*\w*Error\b/.test(line)) ?? output[0] ?? '')
        .trim()
        .slice(0, 300);
      return `\`hookyard --help\` failed (${help.status ?? help.signal}): ${why}`;
    }
    return undefined;
  })();
  return hookyardCheck;
}

async function api(origin: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await request(`${origin}${path}`, {
    method: method as 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} -> ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Polls the health endpoint until it answers (the process may take a second to migrate and listen). */
async function waitReady(child: Child, origin: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError = '';
  while (performance.now() < deadline) {
    if (!child.isAlive()) throw new Error(`${child.name} exited during start-up: ${child.why()}`);
    try {
      const res = await request(`${origin}/readyz`, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      const body = await res.body.text();
      if (res.statusCode < 300) return;
      lastError = `/readyz answered ${res.statusCode} ${body}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${child.name} not ready after ${timeoutMs} ms (${lastError}): ${child.why()}`);
}

interface HookyardLayout {
  readonly name: string;
  readonly description: string;
  readonly durability: string;
  readonly postgres: boolean;
  /** Roles of the processes to start; the first one serves the API. */
  readonly roles: readonly ('all' | 'api' | 'worker')[];
  /** Run only when named with --only (keeps the default and --quick runs short). */
  readonly optional?: boolean;
}

export interface HookyardProcesses {
  /** The API's origin (the first role's process). */
  readonly origin: string;
  readonly children: readonly Child[];
  /** Processes started with the query-counting preload, and where each writes its counts. */
  readonly counted: readonly { pid: number; file: string }[];
  close(): Promise<void>;
}

/**
 * The Node flags `npm start` runs Hookyard with (package.json's start script: `node <flags> <entry>
 * serve`), so the bench measures the process a user runs.
 */
const startFlags: readonly string[] = (() => {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (scripts['start'] ?? '').split(/\s+/);
  return words
    .slice(1, words.indexOf(relative(repoRoot, hookyardEntry)))
    .filter((word) => word.startsWith('--'));
})();

/**
 * Extra Node flags for every Hookyard process, from BENCH_HOOKYARD_NODE_ARGS (space-separated; after
 * `npm start`'s, so they override them), for profiling under the bench's load:
 * `BENCH_HOOKYARD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` writes one .cpuprofile per process
 * when it exits. Not NODE_OPTIONS, which would profile the bench too.
 */
function profilingArgs(): string[] {
  return (process.env['BENCH_HOOKYARD_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
}

/**
 * Starts Hookyard processes (`hookyard serve --role <role>` each) on an existing database or data
 * directory, and waits until the API answers. `databaseUrl` empty = embedded SQLite in `dataDir`.
 */
export async function launchHookyard(options: {
  readonly roles: readonly ('all' | 'api' | 'worker')[];
  readonly workDir: string;
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly retryDelaysMs: readonly number[];
}): Promise<HookyardProcesses> {
  const children: Child[] = [];
  const counted: { pid: number; file: string }[] = [];
  try {
    let origin = '';
    for (const [index, role] of options.roles.entries()) {
      const port = await freePort();
      const countsFile = join(options.workDir, `hookyard-${role}-${index}.counts.json`);
      const child = startChild({
        name: `hookyard-${role}`,
        command: process.execPath,
        args: [
          ...startFlags,
          ...profilingArgs(),
          '--import',
          countingPreload,
          hookyardEntry,
          'serve',
          '--role',
          role,
        ],
        cwd: repoRoot,
        logPath: join(options.workDir, `hookyard-${role}-${index}.log`),
        env: {
          ...process.env,
          // The compile cache the executable turns on (src/cli/hookyard.mjs), named here so it covers
          // the counting preload too, which would otherwise load the TypeScript stripper that a user's
          // warm start does not: the bench measures the memory a user's process has.
          NODE_COMPILE_CACHE: process.env['NODE_COMPILE_CACHE'] ?? join(tmpdir(), 'node-compile-cache'),
          NODE_ENV: 'production',
          HOOKYARD_HOST: '127.0.0.1',
          HOOKYARD_PORT: String(port),
          HOOKYARD_DATA_DIR: options.dataDir,
          HOOKYARD_DATABASE_URL: options.databaseUrl,
          HOOKYARD_ADMIN_TOKEN: adminToken,
          HOOKYARD_ALLOWED_SUBNETS: '127.0.0.0/8',
          HOOKYARD_LOG_LEVEL: 'warn',
          HOOKYARD_RETRY_SCHEDULE: options.retryDelaysMs.map((ms) => `${ms}ms`).join(','),
          // The backlog scenario holds attempts open until the receiver comes up; allow for it.
          HOOKYARD_DELIVERY_TIMEOUT: '5m',
          HOOKYARD_LEASE_DURATION: '15m',
          BENCH_COUNTS_FILE: countsFile,
          BENCH_COUNT_PG: options.databaseUrl === '' ? '0' : '1',
        },
      });
      children.push(child);
      counted.push({ pid: child.pid, file: countsFile });
      if (index === 0) origin = `http://127.0.0.1:${port}`;
      // Every role answers /readyz on its port: 200 once its API accepts and its dispatcher claims.
      // Waiting for a worker's too means the warm-up never races a worker still starting up.
      await waitReady(child, `http://127.0.0.1:${port}`, 60_000);
    }
    return {
      origin,
      children,
      counted,
      async close() {
        await Promise.all(children.map((child) => child.stop()));
      },
    };
  } catch (error) {
    await Promise.all(children.map((child) => child.stop(1_000)));
    throw error;
  }
}

/** Calls Hookyard's API as the admin. */
export function hookyardApi(origin: string, method: string, path: string, body?: unknown): Promise<unknown> {
  return api(origin, method, path, body);
}

export { freshDatabase, hookyardApp, hookyardUnavailable, pgAdminUrl, postgresUnavailable };

function hookyard(layout: HookyardLayout): ContenderDef {
  return {
    name: layout.name,
    ...(layout.optional ? { optional: true } : {}),
    description: layout.description,
    durability: layout.durability,
    isHookyard: true,
    async unavailable() {
      return (await hookyardUnavailable()) ?? (layout.postgres ? await postgresUnavailable() : undefined);
    },
    async start(ctx) {
      const databaseUrl = layout.postgres ? await freshDatabase('hookyard_bench_hy') : '';
      const processes = await launchHookyard({
        roles: layout.roles,
        workDir: ctx.workDir,
        dataDir: join(ctx.workDir, 'data'),
        databaseUrl,
        retryDelaysMs: ctx.retryDelaysMs,
      });
      try {
        const { origin } = processes;
        await api(origin, 'POST', '/api/v1/app', { name: 'Bench', uid: hookyardApp });
        for (const url of ctx.targets) {
          await api(origin, 'POST', `/api/v1/app/${hookyardApp}/endpoint`, {
            url,
            description: 'bench receiver',
          });
        }
        return {
          ingest: {
            origin,
            path: `/api/v1/app/${hookyardApp}/msg`,
            headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
            wrap: (payload) => `{"eventType":"invoice.paid","payload":${payload}}`,
          },
          stats: {
            roots: () => processes.children.map((child) => child.pid),
            named: () => processes.children.map((child) => ({ name: child.name, pid: child.pid })),
            ...(layout.postgres ? { cpuOnly: backendsOf('hookyard_bench_hy') } : {}),
          },
          cost: {
            counted: () => processes.counted,
            ...(layout.postgres ? { postgres: { adminUrl: pgAdminUrl, database: 'hookyard_bench_hy' } } : {}),
          },
          children: processes.children,
          close: () => processes.close(),
        };
      } catch (error) {
        await Promise.all(processes.children.map((child) => child.stop(1_000)));
        throw error;
      }
    },
  };
}

export const contenders: readonly ContenderDef[] = [
  bare,
  floor,
  ceiling,
  bullmq,
  pgqueue,
  hookyard({
    name: 'hookyard-sqlite',
    description: 'One Hookyard process on embedded SQLite (`hookyard serve`).',
    durability: 'fsync’d in SQLite before the 202 (WAL fsync, group commit: the synchronous=FULL guarantee).',
    postgres: false,
    roles: ['all'],
  }),
  hookyard({
    name: 'hookyard-pg',
    description: 'One Hookyard process on PostgreSQL (`hookyard serve` with HOOKYARD_DATABASE_URL).',
    durability: 'committed in PostgreSQL before the 202.',
    postgres: true,
    roles: ['all'],
  }),
  hookyard({
    name: 'hookyard-pg-split',
    description: 'Hookyard on PostgreSQL as two processes: `--role api` and `--role worker`.',
    durability: 'committed in PostgreSQL before the 202.',
    postgres: true,
    roles: ['api', 'worker'],
  }),
  hookyard({
    name: 'hookyard-pg-2workers',
    description: 'Hookyard on PostgreSQL as three processes: `--role api` and two `--role worker`.',
    durability: 'committed in PostgreSQL before the 202.',
    postgres: true,
    roles: ['api', 'worker', 'worker'],
    optional: true,
  }),
];
