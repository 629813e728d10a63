/**
 * "An event that got a 2xx is never lost, whatever crashes": Hookyard runs as a child process, takes
 * thousands of concurrent messages, is SIGKILLed mid-stream, restarts on the same data, and every
 * message that was answered 2xx reaches the receiver. Retries scheduled before the kill still happen.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { sendMessages } from '../helpers/load.ts';
import { createTestDatabase } from '../helpers/postgres-database.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { type HookyardProcess, startHookyard, tempDir } from '../helpers/server-process.ts';

const databaseUrl = process.env.HOOKYARD_TEST_DATABASE_URL;
const CONCURRENCY = 32;
const TOTAL = 3000;
const KILL_AFTER = 1200;

interface Backend {
  name: string;
  prepare(): Promise<{ env: Record<string, string>; cleanup: () => Promise<unknown> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    prepare: async () => ({ env: { HOOKYARD_DATA_DIR: tempDir() }, cleanup: async () => {} }),
  },
];
if (databaseUrl) {
  backends.push({
    name: 'postgres',
    prepare: async () => {
      const db = await createTestDatabase(databaseUrl, 'crash');
      return { env: { HOOKYARD_DATABASE_URL: db.url }, cleanup: db.drop };
    },
  });
}

for (const backend of backends) {
  describe(`crash recovery (${backend.name})`, () => {
    const cleanups: Array<() => Promise<unknown>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    it('delivers every accepted message after a SIGKILL, and resumes scheduled retries', async () => {
      const good: Receiver = await startReceiver();
      cleanups.push(() => good.close());
      // Fails each message's first attempt, so a retry is scheduled (3 s ahead) before the kill.
      const seenOnce = new Set<string>();
      const flaky: Receiver = await startReceiver({
        respond: ({ headers }) => {
          const id = String(headers['webhook-id']);
          if (seenOnce.has(id)) return 200;
          seenOnce.add(id);
          return 500;
        },
      });
      cleanups.push(() => flaky.close());

      const prepared = await backend.prepare();
      cleanups.push(prepared.cleanup);
      const env = {
        ...prepared.env,
        HOOKYARD_RETRY_SCHEDULE: '3s,3s,3s',
        HOOKYARD_DELIVERY_CONCURRENCY: String(CONCURRENCY),
        HOOKYARD_LEASE_DURATION: '5s',
      };
      let hookyard: HookyardProcess = await startHookyard(env);
      cleanups.push(() => hookyard.kill());

      const appA = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'load' });
      assert.equal(appA.status, 201);
      await hookyard.api('POST', `/api/v1/app/${appA.body.id}/endpoint`, { url: `${good.url}/hook` });
      const appB = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'retries' });
      await hookyard.api('POST', `/api/v1/app/${appB.body.id}/endpoint`, { url: `${flaky.url}/hook` });

      const retryIds: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await hookyard.api<{ id: string }>('POST', `/api/v1/app/${appB.body.id}/msg`, {
          eventType: 'retry.test',
          payload: { i },
        });
        assert.equal(res.status, 202);
        retryIds.push(res.body.id);
      }
      await flaky.waitFor(() => retryIds.every((id) => flaky.counts.get(id) === 1), 20_000);

      // Fire TOTAL messages with bounded concurrency; SIGKILL once KILL_AFTER have been accepted.
      let killed: Promise<void> | undefined;
      const { accepted } = await sendMessages({
        url: hookyard.url,
        appId: appA.body.id,
        total: TOTAL,
        onProgress: ({ accepted }) => {
          if (accepted.size >= KILL_AFTER && !killed) killed = hookyard.kill();
        },
      });
      await killed;
      assert.ok(accepted.size >= KILL_AFTER, `accepted ${accepted.size} before the kill`);

      hookyard = await startHookyard(env);
      cleanups.push(() => hookyard.stop());

      await good.waitFor(() => [...accepted].every((id) => good.counts.has(id)), 120_000);
      await flaky.waitFor(() => retryIds.every((id) => (flaky.counts.get(id) ?? 0) >= 2), 30_000);

      const missing = [...accepted].filter((id) => !good.counts.has(id));
      assert.deepEqual(missing, [], 'every acknowledged message is delivered');
      // A duplicate is only possible for an attempt that was in flight when the process died.
      const duplicates = [...good.counts.values()].filter((count) => count > 1).length;
      assert.ok(
        duplicates <= CONCURRENCY,
        `${duplicates} duplicates; at most ${CONCURRENCY} attempts were in flight`,
      );

      // The receiver answered before the attempt's outcome committed: wait for the record.
      let statuses: number[] = [];
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
        const attempts = await hookyard.api<{ data: Array<{ status: number }> }>(
          'GET',
          `/api/v1/app/${appB.body.id}/attempt/msg/${retryIds[0]}`,
        );
        statuses = attempts.body.data.map((a) => a.status).sort();
        if (statuses.length >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(statuses, [0, 2], 'a failed attempt, then a success');
      assert.equal(await hookyard.stop(), 0, 'SIGTERM exits 0');
    });
  });
}
