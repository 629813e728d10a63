/**
 * Probes and lifecycle with real child processes: `/livez` and `/readyz` on every role, a process
 * that starts before its database waits for it instead of exiting, and SIGTERM drains (readiness 503
 * and writes refused at once, the in-flight attempt finishes, then the process exits).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '../helpers/postgres-database.ts';
import { privatePostgresAvailable, startPrivatePostgres } from '../helpers/private-postgres.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { freePort, startHookyard, TEST_ADMIN_TOKEN, tempDir } from '../helpers/server-process.ts';

const databaseUrl = process.env.HOOKYARD_TEST_DATABASE_URL;
const CLI = new URL('../../src/cli/hookyard.mjs', import.meta.url).pathname;

async function getJson<T = Record<string, unknown>>(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(100);
  }
}

describe('probes', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  it('an all-in-one process serves /livez, /readyz and the Svix-shaped /api/v1/health', async (t) => {
    const dataDir = tempDir();
    const hookyard = await startHookyard({ HOOKYARD_DATA_DIR: dataDir });
    cleanups.push(() => hookyard.stop());
    const live = await getJson(`${hookyard.url}/livez`);
    assert.equal(live.status, 200);
    assert.equal(live.body.status, 'ok');
    await until('ready', async () => (await fetch(`${hookyard.url}/readyz`)).status === 200);
    const ready = await getJson(`${hookyard.url}/readyz`);
    assert.deepEqual(ready.body, {
      status: 'ready',
      checks: { storage: 'ok', schema: 'current', api: 'accepting', dispatcher: 'claiming' },
    });
    const health = await getJson(`${hookyard.url}/api/v1/health`);
    assert.deepEqual(health, { status: 200, body: { database: { status: 'OK' }, backend: 'sqlite' } });

    // A newer Hookyard migrating the database ahead makes this process step aside.
    const db = new DatabaseSync(join(dataDir, 'hookyard.db'));
    t.after(() => db.close());
    db.exec('PRAGMA busy_timeout = 5000');
    const { value } = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
      value: string;
    };
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(Number(value) + 1));
    const changed = await getJson<{ reason: string; checks: { schema: string } }>(`${hookyard.url}/readyz`);
    assert.equal(changed.status, 503);
    assert.equal(changed.body.reason, 'schema_changed');
    assert.equal(changed.body.checks.schema, 'changed');
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(value);
    assert.equal((await fetch(`${hookyard.url}/readyz`)).status, 200);
  });

  it('a worker listens on its port for the probes and health, and has no API there', {
    skip: databaseUrl ? false : 'HOOKYARD_TEST_DATABASE_URL not set',
  }, async () => {
    const db = await createTestDatabase(databaseUrl!, 'probes');
    cleanups.push(db.drop);
    const worker = await startHookyard({ HOOKYARD_DATABASE_URL: db.url, HOOKYARD_ROLE: 'worker' });
    cleanups.push(() => worker.stop());
    await until('worker ready', async () => (await fetch(`${worker.url}/readyz`)).status === 200);
    const ready = await getJson(`${worker.url}/readyz`);
    assert.deepEqual(ready.body, {
      status: 'ready',
      checks: { storage: 'ok', schema: 'current', dispatcher: 'claiming' },
    });
    assert.equal((await fetch(`${worker.url}/livez`)).status, 200);
    assert.deepEqual(await getJson(`${worker.url}/api/v1/health`), {
      status: 200,
      body: { database: { status: 'OK' }, backend: 'postgres' },
    });
    const api = await getJson<{ code: string }>(`${worker.url}/api/v1/app`);
    assert.equal(api.status, 404);
    assert.equal(api.body.code, 'not_found');
    assert.equal(await worker.stop(), 0);
  });

  const noPrivate = privatePostgresAvailable();
  it('starts without its database: one log line, /livez 200, /readyz 503, connects when it comes up', {
    skip: noPrivate ?? false,
  }, async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    pg.stop();
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env,
        HOOKYARD_HOST: '127.0.0.1',
        HOOKYARD_PORT: String(port),
        HOOKYARD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        HOOKYARD_DATABASE_URL: pg.url,
        HOOKYARD_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const url = `http://127.0.0.1:${port}`;
    await until('the outage is logged', async () => output.includes('database unreachable at start-up'));
    await until('listening', async () => (await fetch(`${url}/livez`).catch(() => undefined))?.ok === true);

    const ready = await getJson<{ status: string; reason: string }>(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.reason, 'storage_unavailable');
    const write = await getJson<{ code: string }>(`${url}/api/v1/app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'too early' }),
    });
    assert.equal(write.status, 503);
    assert.equal(write.body.code, 'storage_unavailable');
    const health = await getJson<{ database: { status: string }; backend: string }>(`${url}/api/v1/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(
      { database: health.body.database.status, backend: health.body.backend },
      { database: 'ERROR', backend: 'postgres' },
    );
    // Let a few retries pass: still one line, and the process is still there.
    await sleep(1500);
    assert.equal(output.split('database unreachable at start-up').length - 1, 1, output);
    assert.equal(child.exitCode, null);

    pg.start();
    await until(
      'ready after the database came up',
      async () => (await fetch(`${url}/readyz`)).status === 200,
    );
    const created = await getJson<{ name: string }>(`${url}/api/v1/app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'on time' }),
    });
    assert.equal(created.status, 201);

    // An outage later makes it unready (never restarted), and it recovers by itself again.
    pg.stop();
    await until('unready during an outage', async () => (await fetch(`${url}/readyz`)).status === 503);
    const down = await getJson<{ reason: string }>(`${url}/readyz`);
    assert.equal(down.body.reason, 'storage_unavailable');
    assert.equal((await fetch(`${url}/livez`)).status, 200);
    pg.start();
    await until('ready after the outage', async () => (await fetch(`${url}/readyz`)).status === 200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('SIGTERM: /readyz 503 and writes refused at once, the attempt in flight finishes, then exit 0', async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const receiver = await startReceiver({ respond: () => held.then(() => 200) });
    cleanups.push(() => receiver.close());
    cleanups.push(() => release?.());
    const dataDir = tempDir();
    const hookyard = await startHookyard({ HOOKYARD_DATA_DIR: dataDir, HOOKYARD_DELIVERY_TIMEOUT: '60s' });
    cleanups.push(() => hookyard.kill());
    const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'drain' });
    await hookyard.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: `${receiver.url}/hook` });
    const msg = await hookyard.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/msg`, {
      eventType: 'x',
      payload: { n: 1 },
    });
    assert.equal(msg.status, 202);
    await receiver.waitFor(() => receiver.deliveries.length === 1);

    const exited = once(hookyard.child, 'exit');
    hookyard.child.kill('SIGTERM');
    await until('draining', async () => (await fetch(`${hookyard.url}/readyz`)).status === 503);
    const ready = await getJson<{ reason: string }>(`${hookyard.url}/readyz`);
    assert.equal(ready.body.reason, 'shutting_down');
    assert.equal((await fetch(`${hookyard.url}/livez`)).status, 200, 'still alive while draining');
    const write = await hookyard.api<{ code: string }>('POST', `/api/v1/app/${app.body.id}/msg`, {
      eventType: 'x',
      payload: { n: 2 },
    });
    assert.equal(write.status, 503);
    assert.equal(write.body.code, 'shutting_down');
    assert.equal(hookyard.child.exitCode, null, 'waits for the attempt in flight');

    release?.();
    const [code] = await exited;
    assert.equal(code, 0);

    // The attempt that was in flight was recorded as a success before the process went away.
    const again = await startHookyard({ HOOKYARD_DATA_DIR: dataDir });
    cleanups.push(() => again.stop());
    const attempts = await again.api<{ data: { status: number; responseStatusCode: number }[] }>(
      'GET',
      `/api/v1/app/${app.body.id}/attempt/msg/${msg.body.id}`,
    );
    assert.equal(attempts.status, 200);
    assert.deepEqual(
      attempts.body.data.map((a) => a.responseStatusCode),
      [200],
    );
    assert.equal(receiver.deliveries.length, 1, 'not delivered again after the restart');
  });
});
