import { privatePostgresAvailable, startPrivatePostgres } from '../../test/helpers/private-postgres.ts';
import { startReceiver } from '../../test/helpers/receiver.ts';
import { mountSmallDisk } from '../../test/helpers/small-disk.ts';
import {
  type HookyardProcess,
  hookyardWithApp,
  type Outcome,
  paced,
  rssMb,
  type Scenario,
  sleep,
  startHookyard,
  statuses,
  tempDir,
  waitUntil,
} from '../lib.ts';

async function createAppAndEndpoint(hookyard: HookyardProcess, url: string): Promise<string> {
  const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'chaos' });
  await hookyard.api('POST', `/api/v1/app/${app.body.id}/endpoint`, { url });
  return app.body.id;
}

const sigkillLoop: Scenario = {
  name: 'SIGKILL loop (5 kills under load, SQLite)',
  promise:
    'Every message answered 2xx is delivered after any number of crashes; duplicates only for attempts in flight.',
  timeoutMs: 180_000,
  async run(): Promise<Outcome> {
    const receiver = await startReceiver();
    const env = {
      HOOKYARD_DATA_DIR: tempDir('hookyard-chaos-kill-'),
      HOOKYARD_LOG_LEVEL: 'error',
      HOOKYARD_DELIVERY_CONCURRENCY: '32',
    };
    let hookyard = await startHookyard(env);
    try {
      const appId = await createAppAndEndpoint(hookyard, `${receiver.url}/hook`);
      const accepted = new Set<string>();
      const rejected = new Map<number, number>();
      for (let round = 0; round < 5; round++) {
        let stop = false;
        const load = paced({ url: hookyard.url, appId, perSecond: 300, stop: () => stop });
        await sleep(1_500);
        await hookyard.kill();
        stop = true;
        const result = await load;
        for (const id of result.accepted) accepted.add(id);
        for (const [status, n] of result.rejected) rejected.set(status, (rejected.get(status) ?? 0) + n);
        hookyard = await startHookyard(env);
      }
      const delivered = await waitUntil(() => [...accepted].every((id) => receiver.counts.has(id)), 90_000);
      const missing = [...accepted].filter((id) => !receiver.counts.has(id)).length;
      const duplicates = [...receiver.counts.values()].filter((n) => n > 1).length;
      return {
        held: delivered && missing === 0,
        figures: `5 kills; ${accepted.size} accepted, ${missing} lost, ${duplicates} delivered twice (at most 32 in flight per kill); not acknowledged: ${statuses(rejected)}`,
      };
    } finally {
      await hookyard.kill();
      await receiver.close();
    }
  },
};

const postgresRestart: Scenario = {
  name: 'PostgreSQL restart during a burst',
  promise:
    'While PostgreSQL is down ingest answers 503 storage_unavailable (never a false 2xx); the process reconnects by itself and delivers everything acknowledged.',
  timeoutMs: 180_000,
  async run(): Promise<Outcome> {
    const unavailable = privatePostgresAvailable();
    if (unavailable) return { held: true, figures: `skipped: ${unavailable}` };
    const pg = await startPrivatePostgres();
    const receiver = await startReceiver();
    let hookyard: HookyardProcess | undefined;
    try {
      hookyard = await startHookyard({ HOOKYARD_DATABASE_URL: pg.url, HOOKYARD_LOG_LEVEL: 'fatal' });
      const appId = await createAppAndEndpoint(hookyard, `${receiver.url}/hook`);
      let stop = false;
      const load = paced({ url: hookyard.url, appId, perSecond: 300, stop: () => stop });
      await sleep(2_000);
      pg.stop();
      await sleep(2_000);
      const restarted = Date.now();
      pg.start();
      const url = hookyard.url;
      await waitUntil(async () => (await fetch(`${url}/api/v1/health`)).status === 200, 30_000);
      const recoveredMs = Date.now() - restarted;
      await sleep(2_000);
      stop = true;
      const { accepted, rejected } = await load;
      const delivered = await waitUntil(() => [...accepted].every((id) => receiver.counts.has(id)), 60_000);
      const missing = [...accepted].filter((id) => !receiver.counts.has(id)).length;
      const onlyRefusals = [...rejected.keys()].every((status) => status === 503);
      return {
        held: delivered && missing === 0 && onlyRefusals,
        figures: `${accepted.size} accepted, ${missing} lost; refused: ${statuses(rejected)}; healthy ${recoveredMs} ms after PostgreSQL was back`,
      };
    } finally {
      await hookyard?.kill();
      await receiver.close();
      pg.destroy();
    }
  },
};

const fullDisk: Scenario = {
  name: 'full disk (SQLite on a 48 MB tmpfs)',
  promise:
    'A full data disk makes ingest answer 507 storage_full (never a 2xx for what is not durable) and health 503; accepted messages are still delivered; writes resume by themselves once space is freed.',
  timeoutMs: 120_000,
  async run(): Promise<Outcome> {
    const disk = mountSmallDisk(48);
    if ('skip' in disk) return { held: true, figures: `skipped: ${disk.skip}` };
    let open = false;
    const receiver = await startReceiver({ respond: () => (open ? 200 : 500) });
    let hookyard: HookyardProcess | undefined;
    try {
      hookyard = await startHookyard({
        HOOKYARD_DATA_DIR: disk.dir,
        HOOKYARD_DISK_RESERVE: String(4 * 1024 * 1024),
        HOOKYARD_RETRY_SCHEDULE: Array.from({ length: 30 }, () => '1s').join(','),
        HOOKYARD_LOG_LEVEL: 'fatal',
      });
      const appId = await createAppAndEndpoint(hookyard, `${receiver.url}/hook`);
      const accepted = new Set<string>();
      const counts = new Map<number, number>();
      const h = hookyard;
      const send = async () => {
        const res = await h.api<{ id?: string }>('POST', `/api/v1/app/${appId}/msg`, {
          eventType: 'disk',
          payload: { pad: 'x'.repeat(2000) },
        });
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        if (res.status === 202 && res.body.id) accepted.add(res.body.id);
        return res.status;
      };
      for (let i = 0; i < 50; i++) await send();
      disk.fill();
      let refused = false;
      for (let i = 0; i < 5_000 && !refused; i++) refused = (await send()) === 507;
      for (let i = 0; i < 20; i++) await send();
      const health = (await fetch(`${h.url}/api/v1/health`)).status;
      open = true;
      const deliveredWhileFull = await waitUntil(
        () => [...accepted].every((id) => receiver.counts.has(id)),
        60_000,
      );
      disk.free();
      const freed = Date.now();
      let recovered = false;
      while (!recovered && Date.now() - freed < 30_000) {
        recovered = (await send()) === 202;
        if (!recovered) await sleep(100);
      }
      const recoveredMs = Date.now() - freed;
      const falseAnswers = [...counts.keys()].filter((status) => status !== 202 && status !== 507);
      return {
        held: refused && health === 503 && deliveredWhileFull && recovered && falseAnswers.length === 0,
        figures: `answers: ${statuses(counts)}; health while full ${health}; ${accepted.size} accepted, all delivered while full: ${deliveredWhileFull}; ingest back ${recoveredMs} ms after space was freed`,
      };
    } finally {
      await hookyard?.kill();
      await receiver.close();
      disk.unmount();
    }
  },
};

export function soak(seconds: number): Scenario {
  return {
    name: `soak (${seconds} s at 200 messages/s, RSS sampled)`,
    promise: 'Memory stays flat under steady load, and nothing is lost.',
    timeoutMs: seconds * 1000 + 120_000,
    async run(): Promise<Outcome> {
      const receiver = await startReceiver();
      const h = await hookyardWithApp();
      try {
        await h.endpoint(`${receiver.url}/hook`);
        const pid = h.hookyard.child.pid ?? 0;
        const samples: number[] = [];
        let stop = false;
        const sampler = setInterval(() => samples.push(rssMb(pid)), 1_000);
        const load = paced({ url: h.hookyard.url, appId: h.appId, perSecond: 200, stop: () => stop });
        await sleep(seconds * 1000);
        stop = true;
        const { accepted, rejected } = await load;
        const delivered = await waitUntil(() => [...accepted].every((id) => receiver.counts.has(id)), 60_000);
        clearInterval(sampler);
        // Compare the second tenth (warmed up) with the last tenth of the run.
        const tenth = Math.max(1, Math.floor(samples.length / 10));
        const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
        const early = mean(samples.slice(tenth, 2 * tenth));
        const late = mean(samples.slice(-tenth));
        const peak = Math.max(...samples);
        return {
          held: delivered && rejected.size === 0 && late <= early * 1.2 + 10,
          figures: `${accepted.size} accepted (${Math.round(accepted.size / seconds)}/s), all delivered: ${delivered}, refused: ${statuses(rejected)}; RSS ${early.toFixed(1)} → ${late.toFixed(1)} MB (peak ${peak.toFixed(1)})`,
        };
      } finally {
        await h.hookyard.kill();
        await receiver.close();
      }
    },
  };
}

export const outages: Scenario[] = [sigkillLoop, postgresRestart, fullDisk];
