/**
 * The load generator: POSTs 1 KB JSON events to a contender's ingest URL over an undici Pool on
 * 127.0.0.1, either as fast as `concurrency` requests in flight allow (closed loop) or at a fixed rate
 * (open loop: a send is due every 1/rate s whether or not earlier ones were answered, so a slow system
 * shows up as latency instead of silently lowering the offered load).
 *
 * Events carry consecutive bench ids from `firstId` (ids below it belong to the warm-up); `sentAt` and
 * `acceptedAt`, indexed by id, hold performance.now() when the request started and when its 2xx
 * arrived (NaN if it never did), the same clock the receivers stamp.
 */
import { Pool } from 'undici';

export interface IngestTarget {
  readonly origin: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Wraps the 1 KB payload into the contender's request body. */
  readonly wrap: (payload: string) => string;
}

export interface LoadResult {
  readonly sentAt: Float64Array;
  readonly acceptedAt: Float64Array;
  readonly accepted: number;
  readonly rejected: number;
  /** Status code (or error code) -> count, for everything that was not a 2xx. */
  readonly rejections: Readonly<Record<string, number>>;
  readonly firstSentAt: number;
  readonly lastAcceptedAt: number;
}

const payloadBytes = 1024;

/** A 1 KB JSON object whose first key is the bench id (the receivers look for it in the first bytes). */
export function makePayload(id: number): string {
  const head = `{"benchId":"${id}","type":"invoice.paid","data":"`;
  const tail = '"}';
  return head + 'x'.repeat(Math.max(0, payloadBytes - head.length - tail.length)) + tail;
}

interface Run {
  pool: Pool;
  result: LoadResult & { accepted: number; rejected: number; lastAcceptedAt: number };
  rejections: Record<string, number>;
}

function startRun(target: IngestTarget, ids: number, connections: number): Run {
  const rejections: Record<string, number> = {};
  return {
    pool: new Pool(target.origin, {
      connections,
      pipelining: 1,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    }),
    rejections,
    result: {
      sentAt: new Float64Array(ids).fill(Number.NaN),
      acceptedAt: new Float64Array(ids).fill(Number.NaN),
      accepted: 0,
      rejected: 0,
      rejections,
      firstSentAt: Number.NaN,
      lastAcceptedAt: Number.NaN,
    },
  };
}

async function sendOne(run: Run, target: IngestTarget, id: number): Promise<void> {
  const { result } = run;
  const sentAt = performance.now();
  result.sentAt[id] = sentAt;
  if (Number.isNaN(result.firstSentAt)) (result as { firstSentAt: number }).firstSentAt = sentAt;
  try {
    const res = await run.pool.request({
      method: 'POST',
      path: target.path,
      headers: target.headers,
      body: target.wrap(makePayload(id)),
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const now = performance.now();
      result.acceptedAt[id] = now;
      result.accepted++;
      result.lastAcceptedAt = now;
    } else {
      result.rejected++;
      run.rejections[res.statusCode] = (run.rejections[res.statusCode] ?? 0) + 1;
    }
  } catch (error) {
    result.rejected++;
    const code = (error as { code?: string }).code ?? 'error';
    run.rejections[code] = (run.rejections[code] ?? 0) + 1;
  }
}

/** Sends ids [firstId, firstId + count) with at most `concurrency` in flight; stops early at `deadline`. */
export async function sendClosedLoop(
  target: IngestTarget,
  firstId: number,
  count: number,
  concurrency: number,
  deadline: number,
): Promise<LoadResult> {
  const end = firstId + count;
  const run = startRun(target, end, concurrency);
  let next = firstId;
  const lane = async () => {
    while (next < end && performance.now() < deadline) await sendOne(run, target, next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  } finally {
    await run.pool.close();
  }
  return run.result;
}

/**
 * Sends ids [firstId, firstId + count) at `rate` per second. Sends are issued from a 1 ms timer in catch-up batches, so
 * timer jitter delays a send by at most a millisecond or two but never lowers the rate; at most
 * `maxInFlight` requests wait for an answer (beyond that the system is hopelessly behind and the run
 * stops sending, which the report shows as rejected "overload").
 */
export async function sendAtRate(
  target: IngestTarget,
  firstId: number,
  count: number,
  rate: number,
  maxInFlight: number,
  deadline: number,
): Promise<LoadResult> {
  const end = firstId + count;
  const run = startRun(target, end, 128);
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let next = firstId;
  try {
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(end, firstId + Math.floor(((now - start) * rate) / 1000) + 1);
        while (next < due) {
          if (inflight.size >= maxInFlight || now > deadline) {
            run.result.rejected += end - next;
            run.rejections['overload'] = (run.rejections['overload'] ?? 0) + (end - next);
            next = end;
            break;
          }
          const p = sendOne(run, target, next++).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        if (next >= end) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.all(inflight);
  } finally {
    await run.pool.close();
  }
  return run.result;
}
