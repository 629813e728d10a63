import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type HookyardProcess,
  startHookyard,
  TEST_ADMIN_TOKEN,
  tempDir,
} from '../test/helpers/server-process.ts';

export { type HookyardProcess, sleep, startHookyard, TEST_ADMIN_TOKEN, tempDir };

/** What a scenario reports: whether Hookyard held, and the figures that show it. */
export interface Outcome {
  held: boolean;
  figures: string;
}

export interface Scenario {
  readonly name: string;
  /** What Hookyard promises in this case (docs/reliability.md). */
  readonly promise: string;
  /** The scenario is abandoned (and fails) past this. */
  readonly timeoutMs: number;
  run(): Promise<Outcome>;
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Polls `check` every 100 ms until it is true; false once `timeoutMs` passed. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

export interface AttemptOut {
  responseStatusCode: number;
  response: string;
  responseDurationMs: number;
}

/** A Hookyard on a fresh SQLite data directory with an application; `extra` are HOOKYARD_* settings. */
export async function hookyardWithApp(extra: Record<string, string> = {}) {
  const hookyard = await startHookyard({
    HOOKYARD_DATA_DIR: tempDir('hookyard-chaos-'),
    HOOKYARD_LOG_LEVEL: 'error',
    ...extra,
  });
  const app = await hookyard.api<{ id: string }>('POST', '/api/v1/app', { name: 'chaos' });
  if (app.status !== 201) throw new Error(`creating the application answered ${app.status}`);
  return {
    hookyard,
    appId: app.body.id,
    async endpoint(url: string): Promise<string> {
      const created = await hookyard.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/endpoint`, {
        url,
      });
      if (created.status !== 201) throw new Error(`creating the endpoint answered ${created.status}`);
      return created.body.id;
    },
    async send(payload: unknown = {}): Promise<{ status: number; id: string | undefined }> {
      const res = await hookyard.api<{ id?: string }>('POST', `/api/v1/app/${app.body.id}/msg`, {
        eventType: 'chaos.test',
        payload,
      });
      return { status: res.status, id: res.body?.id };
    },
    async attempts(endpointId: string): Promise<AttemptOut[]> {
      const res = await hookyard.api<{ data: AttemptOut[] }>(
        'GET',
        `/api/v1/app/${app.body.id}/attempt/endpoint/${endpointId}?limit=250`,
      );
      return res.body?.data ?? [];
    },
  };
}

/**
 * Sends messages at about `perSecond` until `stop()` says so; counts what was acknowledged (202) and
 * what was not, by status (0: the connection failed).
 */
export function paced(options: {
  url: string;
  appId: string;
  perSecond: number;
  stop: () => boolean;
}): Promise<{ accepted: Set<string>; rejected: Map<number, number> }> {
  const accepted = new Set<string>();
  const rejected = new Map<number, number>();
  const one = async (i: number) => {
    let status = 0;
    try {
      const res = await fetch(`${options.url}/api/v1/app/${options.appId}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ eventType: 'chaos.load', payload: { i, pad: 'x'.repeat(900) } }),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      const body = (await res.json()) as { id?: string };
      if (status === 202 && body.id) accepted.add(body.id);
    } catch {
      // Not acknowledged.
    }
    if (status !== 202) rejected.set(status, (rejected.get(status) ?? 0) + 1);
  };
  return (async () => {
    const inFlight = new Set<Promise<void>>();
    let i = 0;
    const started = performance.now();
    while (!options.stop()) {
      // Catch up to the rate from the start, so a slow tick does not lower it (at most 256 in flight).
      const due = Math.floor(((performance.now() - started) / 1000) * options.perSecond);
      while (i < due && inFlight.size < 256) {
        const p = one(i++).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(20);
    }
    await Promise.all(inFlight);
    return { accepted, rejected };
  })();
}

export function statuses(map: Map<number, number>): string {
  return map.size === 0 ? 'none' : [...map].map(([status, count]) => `${count}×${status}`).join(', ');
}
