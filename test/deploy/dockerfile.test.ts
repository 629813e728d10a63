/**
 * The container image, checked without a Docker engine: the Dockerfile's structure (stages, slim
 * Node 24 base, non-root user, data volume, health check on /livez, stop signal), that every path it
 * copies from the build context exists and survives .dockerignore, and that its command starts
 * Hookyard from a clean `npm ci --omit=dev` tree of exactly that context and serves health.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, tempDir } from '../helpers/server-process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Instruction {
  readonly name: string;
  readonly args: string;
}

/** Instructions in order, continuation lines joined, comments and the parser directive dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  return logical.map((line) => {
    const [name = '', ...rest] = line.split(/\s+/);
    return { name: name.toUpperCase(), args: rest.join(' ') };
  });
}

function stages(
  instructions: Instruction[],
): { from: string; name: string | undefined; body: Instruction[] }[] {
  const result: { from: string; name: string | undefined; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.name === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      result.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else result.at(-1)?.body.push(instruction);
  }
  return result;
}

/** .dockerignore patterns as matchers of context-relative paths (a match excludes a directory's contents). */
function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  assert.ok(!patterns.some((p) => p.startsWith('!')), 'this check does not implement ! exceptions');
  const regexes = patterns.map((pattern) => {
    const source = pattern
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map((part) =>
        part === '**'
          ? '(?:.*)'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
    return new RegExp(`^${source}$`);
  });
  return (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (regexes.some((regex) => regex.test(prefix))) return true;
    }
    return false;
  };
}

/** The files `docker build .` would send: the working tree (tracked and untracked, not git-ignored) minus .dockerignore. */
function buildContext(): string[] {
  const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\n')
    .filter((file) => file !== '' && existsSync(join(ROOT, file)));
  return files.filter((file) => !ignored(file));
}

function execArgs(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `exec form: ${args}`);
  return parsed as string[];
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const all = stages(dockerfile);
const runtime = all.at(-1)!;
const argDefaults = new Map(
  dockerfile
    .filter((i) => i.name === 'ARG' && i.args.includes('='))
    .map((i) => i.args.split('=') as [string, string]),
);
const resolveImage = (image: string) =>
  image.replace(/^\$\{(\w+)\}$/, (_, name: string) => argDefaults.get(name) ?? '');
const env = new Map<string, string>();
for (const instruction of runtime.body.filter((i) => i.name === 'ENV'))
  for (const match of instruction.args.matchAll(/(\w+)=(\S+)/g)) env.set(match[1]!, match[2]!);

describe('Dockerfile', () => {
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  it('is multi-stage on a slim Node 24 base, non-root, with the data volume, health check and stop signal', () => {
    assert.ok(all.length >= 2, 'multi-stage');
    for (const stage of all) assert.match(resolveImage(stage.from), /^node:24(\.\d+)*-(bookworm-)?slim$/);
    const names = all.map((stage) => stage.name).filter(Boolean);
    assert.equal(new Set(names).size, names.length, 'stage names are unique');

    const build = all.find((stage) => stage.name === 'build');
    assert.ok(
      build?.body.some((i) => i.name === 'RUN' && i.args.includes('npm run build --if-present')),
      'the build stage runs the package build script when there is one',
    );
    const deps = all.find((stage) => stage.name === 'deps');
    assert.ok(
      deps?.body.some((i) => i.name === 'RUN' && /npm ci --omit=dev\b/.test(i.args)),
      'production deps only',
    );
    const copiedModules = runtime.body.filter((i) => i.name === 'COPY' && i.args.includes('node_modules'));
    assert.deepEqual(
      copiedModules.map((i) => i.args.match(/--from=(\S+)/)?.[1]),
      ['deps'],
      'node_modules come from the production-only stage',
    );

    const user = runtime.body.filter((i) => i.name === 'USER').at(-1);
    assert.ok(user && !['root', '0', '0:0'].includes(user.args), `runs as ${user?.args}`);
    const dataDir = env.get('HOOKYARD_DATA_DIR');
    assert.ok(dataDir, 'HOOKYARD_DATA_DIR is set');
    const volumes = runtime.body.filter((i) => i.name === 'VOLUME').flatMap((i) => execArgs(i.args));
    assert.ok(volumes.includes(dataDir), `VOLUME ${dataDir}`);
    const health = runtime.body.find((i) => i.name === 'HEALTHCHECK');
    assert.match(health?.args ?? '', /\/livez/);
    assert.equal(runtime.body.find((i) => i.name === 'STOPSIGNAL')?.args, 'SIGTERM');
    assert.ok(runtime.body.some((i) => i.name === 'CMD' || i.name === 'ENTRYPOINT'));
  });

  it("runs the executable with npm start's Node flags, as its shebang and the package's scripts do", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    const entry = pkg.bin['hookyard']!;
    const flagsOf = (words: string[]) => words.slice(1, words.indexOf(entry));
    const start = pkg.scripts['start']!.split(/\s+/);
    assert.equal(start[0], 'node');
    const flags = flagsOf(start);
    assert.ok(flags.includes('--max-semi-space-size=16'), `npm start: ${flags.join(' ')}`);
    assert.deepEqual(flagsOf(execArgs(runtime.body.find((i) => i.name === 'CMD')!.args)), flags);
    for (const script of ['dev', 'hookyard'])
      assert.deepEqual(flagsOf(pkg.scripts[script]!.split(/\s+/)), flags, `npm run ${script}`);
    const shebang = readFileSync(join(ROOT, entry), 'utf8').split('\n')[0]!;
    assert.equal(shebang, `#!/usr/bin/env -S node ${flags.join(' ')}`);
  });

  it('copies only paths that exist in the build context after .dockerignore', () => {
    const context = new Set(buildContext());
    assert.ok(context.has('src/cli/hookyard.mjs'));
    assert.ok(context.has('src/storage/sqlite/migrations/0001_initial.sql'));
    assert.ok(!context.has('test/e2e/cli.test.ts') && ![...context].some((f) => f.includes('node_modules/')));
    for (const stage of all)
      for (const copy of stage.body.filter((i) => i.name === 'COPY' && !i.args.includes('--from='))) {
        const parts = copy.args.split(/\s+/).filter((part) => !part.startsWith('--'));
        for (const source of parts.slice(0, -1)) {
          if (source === '.') continue;
          assert.ok(
            [...context].some((file) => file === source || file.startsWith(`${source.replace(/\/$/, '')}/`)),
            `COPY ${source}: not in the build context`,
          );
        }
      }
  });

  it('its command starts Hookyard from a clean npm ci --omit=dev tree and serves health', async () => {
    const app = tempDir('hookyard-image-');
    cleanups.push(() => rmSync(app, { recursive: true, force: true }));
    for (const file of buildContext()) {
      mkdirSync(dirname(join(app, file)), { recursive: true });
      cpSync(join(ROOT, file), join(app, file));
    }
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe' });
    assert.ok(existsSync(join(app, 'node_modules/fastify')), 'runtime dependencies installed');
    for (const dev of ['typescript', '@biomejs/biome', 'node', 'bullmq'])
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} (a devDependency) is not installed`);

    // The image's `node` is node:24-slim's; here it is the repository's Node 24, this test's own.
    const node = (args: string[]) =>
      args.map((arg, i) => (i === 0 && arg === 'node' ? process.execPath : arg));
    const cmd = node(execArgs(runtime.body.find((i) => i.name === 'CMD')!.args));
    const port = await freePort();
    const childEnv = {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(env),
      HOOKYARD_DATA_DIR: tempDir(),
      HOOKYARD_PORT: String(port),
      HOOKYARD_HOST: '127.0.0.1',
    };
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: app,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200) {
      assert.equal(child.exitCode, null, output);
      assert.ok(Date.now() < deadline, `not ready within 30 s:\n${output}`);
      await sleep(100);
    }
    assert.equal((await fetch(`${url}/livez`)).status, 200);
    const health = await fetch(`${url}/api/v1/health`);
    assert.deepEqual(await health.json(), { database: { status: 'OK' }, backend: 'sqlite' });
    assert.match(output, /Generated an admin token/);

    const check = runtime.body.find((i) => i.name === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, '');
    const probe = node(execArgs(check));
    const probeRun = spawn(probe[0]!, probe.slice(1), { env: childEnv, stdio: 'ignore' });
    assert.equal((await once(probeRun, 'exit'))[0], 0, 'HEALTHCHECK passes');

    child.kill(runtime.body.find((i) => i.name === 'STOPSIGNAL')!.args as NodeJS.Signals);
    assert.equal((await once(child, 'exit'))[0], 0, `graceful exit on the stop signal:\n${output}`);
  });
});
