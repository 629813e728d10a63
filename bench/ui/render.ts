/**
 * Dashboard server-render time with many messages stored, and each page's first-load JavaScript.
 *
 *     node bench/ui/render.ts [--messages 1000000] [--requests 200] [--data-dir DIR]
 *
 * Seeds an embedded SQLite database (kept in --data-dir and reused by later runs when it already holds
 * that many messages; a temp dir otherwise): one application, three endpoints, the messages spread
 * over event types and channels, every 100th fanned out to an endpoint and delivered (so the stats
 * rollup, attempts and the message explorer's status filter have data). Then starts Hookyard (role
 * api, built dashboard), signs in, and times `requests` sequential GETs of each page (first byte to
 * last, complete HTML), reporting p50/p95/max. Needs a quiet machine for figures worth comparing; a
 * smaller --messages works for a quick check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith } from '../../src/config/load.ts';
import { newId } from '../../src/domain/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startServer } from '../../src/main.ts';
import { type AttemptOutcome, MessageStatus, type Storage, TriggerType } from '../../src/storage/contract.ts';
import { createStorage } from '../../src/storage/create-storage.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '200' },
    'data-dir': { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const REQUESTS = Number(values.requests);
const TOKEN = 'bench-ui-admin-token-0123456789abcdef';
const keep = values['data-dir'] !== undefined;
const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'hookyard-bench-ui-'));
const silent = createLogger('silent', false);
const log = (line: string) => process.stdout.write(`${line}\n`);

async function seed(storage: Storage): Promise<void> {
  const existing = await storage.explore.listMessages({}, { limit: 1 });
  const app = (await storage.applications.get('bench-ui')) ?? (await createApp(storage));
  const endpoints = await storage.endpoints.listAll(app.id);
  const probe = await storage.explore.listMessages({ appId: app.id, before: Date.now() }, { limit: 1 });
  if (existing.data.length > 0 && probe.data.length > 0) {
    const count = await countMessages(storage, app.id);
    if (count >= MESSAGES) {
      log(`reusing ${count.toLocaleString('en-US')} messages in ${dataDir}`);
      return;
    }
  }
  const start = performance.now();
  const types = ['invoice.paid', 'invoice.created', 'user.created', 'user.deleted', 'order.shipped'];
  const payload = JSON.stringify({ id: 'inv_1', amount: 1200, currency: 'EUR', note: 'x'.repeat(400) });
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        const at = Date.now();
        await storage.messages.ingest({
          message: {
            id: newId('message', at),
            appId: app.id,
            uid: `evt-${i}`,
            eventType: types[i % types.length] as string,
            channels: i % 7 === 0 ? ['eu'] : null,
            payload,
            payloadExpiresAt: at + 90 * 86_400_000,
            createdAt: at,
          },
          endpointIds: i % 100 === 0 ? [(endpoints[i % endpoints.length] as { id: string }).id] : [],
        });
        if (i > 0 && i % 100_000 === 0) log(`  seeded ${i.toLocaleString('en-US')} messages`);
      }
    }),
  );
  // Deliver the fanned-out ones (alternately succeeding and failing) so stats and attempts exist.
  for (;;) {
    const tasks = await storage.deliveries.claim('bench-ui', 500, Date.now(), 60_000);
    if (tasks.length === 0) break;
    const at = Date.now();
    await storage.deliveries.complete(
      tasks.map(
        (task, index): AttemptOutcome => ({
          attempt: {
            id: newId('attempt', at),
            appId: task.appId,
            msgId: task.msgId,
            endpointId: task.endpointId,
            deliveryId: task.deliveryId,
            url: 'https://receiver.example/hook',
            status: index % 10 === 0 ? MessageStatus.fail : MessageStatus.success,
            responseStatusCode: index % 10 === 0 ? 500 : 200,
            response: index % 10 === 0 ? 'nope' : 'ok',
            responseDurationMs: 20 + (index % 50),
            triggerType: TriggerType.scheduled,
            createdAt: at,
          },
          next: index % 10 === 0 ? MessageStatus.fail : MessageStatus.success,
          nextAttemptAt: null,
        }),
      ),
    );
  }
  log(
    `seeded ${MESSAGES.toLocaleString('en-US')} messages in ${((performance.now() - start) / 1000).toFixed(0)} s`,
  );
}

async function createApp(storage: Storage) {
  const now = Date.now();
  const app = await storage.applications.create({
    id: newId('application', now),
    uid: 'bench-ui',
    name: 'Bench UI',
    throttleRate: null,
    metadata: {},
    createdAt: now,
    updatedAt: now,
  });
  for (let i = 0; i < 3; i++) {
    await storage.endpoints.create({
      id: newId('endpoint', now + i),
      appId: app.id,
      uid: null,
      url: `https://receiver.example/hook/${i}`,
      description: `Endpoint ${i}`,
      disabled: false,
      eventTypes: null,
      channels: null,
      throttleRate: null,
      metadata: {},
      headers: {},
      secrets: [{ key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
      createdAt: now,
      updatedAt: now,
    });
  }
  return app;
}

/** Counts by walking pages of ids (the contract has no COUNT; this runs only to decide on reuse). */
async function countMessages(storage: Storage, appId: string): Promise<number> {
  let count = 0;
  let iterator: string | undefined;
  for (;;) {
    const page = await storage.explore.listMessages({ appId }, { limit: 250, iterator });
    count += page.data.length;
    if (page.done || count >= MESSAGES) return count;
    iterator = page.data[page.data.length - 1]?.id;
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const storage = await createStorage({ config: configWith({ dataDir, databaseUrl: '' }), logger: silent });
await seed(storage);
await storage.close();

const server = await startServer(
  configWith({ dataDir, adminToken: TOKEN, port: '0', host: '127.0.0.1', role: 'api', logLevel: 'silent' }),
  silent,
);
await server.started;
const base = server.url;
try {
  const login = await fetch(`${base}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `token=${TOKEN}`,
  });
  const cookie = String(login.headers.get('set-cookie')).split(';')[0] as string;
  const apps = (await (
    await fetch(`${base}/api/v1/app?search=bench-ui`, { headers: { cookie } })
  ).json()) as {
    data: Array<{ id: string }>;
  };
  const appId = apps.data[0]?.id as string;
  const pages: Array<[string, string]> = [
    ['overview', '/ui/'],
    ['message explorer', '/ui/messages'],
    ['explorer, event type + channel', '/ui/messages?eventType=invoice.paid&channel=eu'],
    ['explorer, failed only', '/ui/messages?status=2'],
    ['explorer, by event id', '/ui/messages?q=evt-4242'],
    ['application', `/ui/apps/${appId}`],
  ];
  const rows: string[] = [];
  for (const [name, path] of pages) {
    for (let i = 0; i < 10; i++) await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, { headers: { cookie } });
      const html = await response.text();
      times.push(performance.now() - started);
      if (response.status !== 200 || !html.includes('</html>'))
        throw new Error(`${path}: ${response.status}`);
    }
    times.sort((a, b) => a - b);
    let js = 0;
    const html = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
    const scripts = new Set([
      ...[...html.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1] as string),
      ...[...html.matchAll(/<link rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1] as string),
    ]);
    for (const src of scripts) {
      const response = await fetch(`${base}${src}`, { headers: { 'accept-encoding': 'gzip' } });
      js += Number(response.headers.get('content-length'));
      await response.arrayBuffer();
    }
    rows.push(
      `| ${name} | ${percentile(times, 0.5).toFixed(1)} | ${percentile(times, 0.95).toFixed(1)} | ${(times.at(-1) as number).toFixed(1)} | ${(js / 1024).toFixed(1)} |`,
    );
  }
  log(
    `\nDashboard server render, ${MESSAGES.toLocaleString('en-US')} messages stored, ${REQUESTS} sequential requests per page (SQLite):\n`,
  );
  log('| Page | p50 ms | p95 ms | max ms | first-load JS (KB gzip) |');
  log('|---|---:|---:|---:|---:|');
  for (const row of rows) log(row);
} finally {
  await server.close();
  if (!keep) rmSync(dataDir, { recursive: true, force: true });
}
