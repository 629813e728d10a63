/**
 * The dispatcher: claims due deliveries from storage and makes their attempts.
 *
 *     idle ──wake──► claiming ──tasks──► attempts in flight (up to deliveryConcurrency)
 *      ▲               │  a full batch and free slots: claim again at once
 *      │               │  every slot busy: wait for one to free ("saturated")
 *      └───────────────┘  a short batch: sleep until the next due time (storage.nextDueAt)
 *
 * Wakes come from `storage.subscribeWork` (ingest, resend, recover), a timer at the earliest known
 * due time (from nextDueAt after a short claim, and from our own retries once their completion is
 * committed), a freed slot while saturated, and a slow poll that catches work other processes made
 * due without a notification. One claim runs at a time; a wake during a claim sets `again`, so the
 * loop claims once more instead of losing it.
 *
 * Each attempt's outcome is queued and written with `deliveries.complete` in batches (flushed on
 * setImmediate, one flush at a time, so a busy dispatcher writes large batches). An attempt keeps its
 * concurrency slot until its completion commits, so the attempts made but not yet recorded never
 * exceed `deliveryConcurrency`: that bounds what a crash can redeliver. A task stays leased until its
 * completion commits; a process that dies mid-attempt lets the lease lapse and the task is claimed
 * again (at-least-once delivery; receivers de-duplicate on webhook-id).
 *
 * close(): no more claims → in-flight attempts get up to `drainTimeoutMs` → the rest are aborted and
 * not recorded (their leases lapse, or releaseLeases frees them at the next start) → completions flush.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/settings.ts';
import type { HttpClient, SendResult } from '../delivery/http-client.ts';
import { headerProblem } from '../domain/endpoint-headers.ts';
import { newId } from '../domain/ids.ts';
import { classifyError, classifyStatus } from '../domain/outcome-classification.ts';
import { type NextState, nextState } from '../domain/retry-policy.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { signatureHeader } from '../signing/sign.ts';
import {
  type AttemptOutcome,
  type ClaimedTask,
  type EndpointRecord,
  MessageStatus,
  type Storage,
} from '../storage/contract.ts';
import { version } from '../version.ts';

/** What the dispatcher needs of the endpoint cache. */
export interface EndpointLookup {
  get(endpointId: string): Promise<EndpointRecord | undefined> | EndpointRecord | undefined;
}

export type DispatcherConfig = Pick<
  Config,
  'retrySchedule' | 'deliveryTimeout' | 'deliveryConcurrency' | 'signatureHeaders' | 'leaseDuration'
>;

export interface DispatcherDeps {
  readonly storage: Storage;
  readonly endpointCache: EndpointLookup;
  readonly httpClient: HttpClient;
  readonly config: DispatcherConfig;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: () => number;
  /** [0, 1) for retry jitter. */
  readonly random?: () => number;
  /** Lease owner name; defaults to host:pid:random. */
  readonly owner?: string;
  /** Fallback poll; defaults to 5 s with cross-process notifications, 1 s without. */
  readonly pollIntervalMs?: number;
  /** How long close() lets in-flight attempts finish; defaults to deliveryTimeout + 1 s. */
  readonly drainTimeoutMs?: number;
}

export interface Dispatcher {
  start(): Promise<void>;
  close(): Promise<void>;
}

const CLAIM_BATCH = 100;
/** Floor between timer-driven claims, so due-but-locked rows (another worker's claim) cannot spin us. */
const MIN_SLEEP_MS = 10;
const STORAGE_RETRY_MS = 1_000;
const COMPLETE_TRIES = 5;
const USER_AGENT = `Hookyard/${version}`;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { storage, endpointCache, httpClient, config } = deps;
  const logger = deps.logger.child({ component: 'dispatcher' });
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const pollIntervalMs = deps.pollIntervalMs ?? (storage.capabilities.listenNotify ? 5_000 : 1_000);
  const drainTimeoutMs = deps.drainTimeoutMs ?? config.deliveryTimeout + 1_000;
  const concurrency = config.deliveryConcurrency;

  let state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  let claiming: Promise<void> | undefined;
  let again = false;
  let saturated = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let poll: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  /** Outcomes waiting for the next flush, each with the resolver of the attempt that made it. */
  const queued: Array<{ outcome: AttemptOutcome; recorded: () => void }> = [];
  let flushScheduled = false;
  let flushing: Promise<void> | undefined;

  function wake(): void {
    if (state !== 'running') return;
    if (claiming) {
      again = true;
      return;
    }
    if (inFlight.size >= concurrency) {
      saturated = true;
      return;
    }
    claiming = claimLoop().finally(() => {
      claiming = undefined;
    });
  }

  async function claimLoop(): Promise<void> {
    while (state === 'running') {
      again = false;
      const free = concurrency - inFlight.size;
      if (free <= 0) {
        saturated = true;
        return;
      }
      const limit = Math.min(CLAIM_BATCH, free);
      let tasks: ClaimedTask[];
      try {
        tasks = await storage.deliveries.claim(owner, limit, clock(), config.leaseDuration);
      } catch (error) {
        logger.error({ err: toError(error) }, 'claiming deliveries failed; retrying');
        armTimer(clock() + STORAGE_RETRY_MS);
        return;
      }
      // Tasks claimed while close() began are still ours: deliver them as part of the drain.
      for (const task of tasks) startAttempt(task);
      if (tasks.length === limit) continue;
      try {
        const due = await storage.deliveries.nextDueAt();
        if (due !== null) armTimer(due);
      } catch (error) {
        logger.error({ err: toError(error) }, 'reading the next due time failed');
        armTimer(clock() + STORAGE_RETRY_MS);
      }
      if (!again) return;
    }
  }

  function armTimer(at: number): void {
    if (state !== 'running' || at >= timerAt) return;
    // Beyond the poll interval the poll wakes us anyway (and setTimeout cannot wait past ~24.8 days).
    const delay = Math.min(Math.max(at - clock(), MIN_SLEEP_MS), pollIntervalMs);
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      wake();
    }, delay);
  }

  function startAttempt(task: ClaimedTask): void {
    const running: Promise<void> = attempt(task)
      .catch((error: unknown) => {
        // Not recorded: the lease lapses and the task is claimed again.
        logger.error({ err: toError(error), deliveryId: task.deliveryId }, 'delivery attempt crashed');
      })
      .finally(() => {
        inFlight.delete(running);
        if (saturated) {
          saturated = false;
          wake();
        }
      });
    inFlight.add(running);
  }

  async function attempt(task: ClaimedTask): Promise<void> {
    const started = clock();
    const endpoint = await endpointCache.get(task.endpointId);
    if (!endpoint || endpoint.appId !== task.appId) {
      await record(
        task,
        started,
        '',
        { status: 0, response: 'the endpoint was deleted', durationMs: 0 },
        final,
      );
      return;
    }
    if (endpoint.disabled) {
      // Left leased: it is looked at again when the lease lapses, and goes out once re-enabled.
      logger.debug(
        { deliveryId: task.deliveryId, endpointId: endpoint.id },
        'endpoint disabled; delivery held',
      );
      return;
    }
    if (task.payload === null) {
      await record(
        task,
        started,
        endpoint.url,
        { status: 0, response: 'the message payload was expunged', durationMs: 0 },
        final,
      );
      return;
    }

    const timestamp = Math.floor(started / 1000);
    let headers: Record<string, string>;
    try {
      headers = buildHeaders(endpoint, task.msgId, timestamp, task.payload, started);
    } catch (error) {
      const reason = toError(error).message;
      await record(
        task,
        started,
        endpoint.url,
        { status: 0, response: reason, durationMs: 0 },
        retryByPolicy(classifyError('ENOSECRET')),
      );
      return;
    }

    const result = await httpClient.send({
      url: endpoint.url,
      headers,
      body: task.payload,
      timeoutMs: config.deliveryTimeout,
      signal: abort.signal,
    });
    if (result.kind === 'error' && result.errno === 'ABORTED') return;
    await record(task, started, endpoint.url, observed(result), (attemptsBefore, now) =>
      nextState({
        classification:
          result.kind === 'response' ? classifyStatus(result.status) : classifyError(result.errno),
        attemptsBefore,
        schedule: config.retrySchedule,
        now,
        retryAfter: result.kind === 'response' ? result.retryAfter : undefined,
        random,
      }),
    );
  }

  type Decide = (attemptsBefore: number, now: number) => NextState;
  const final: Decide = () => ({ next: MessageStatus.fail, nextAttemptAt: null });
  function retryByPolicy(classification: ReturnType<typeof classifyError>): Decide {
    return (attemptsBefore, now) =>
      nextState({ classification, attemptsBefore, schedule: config.retrySchedule, now, random });
  }

  function buildHeaders(
    endpoint: EndpointRecord,
    msgId: string,
    timestamp: number,
    body: string,
    now: number,
  ): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    // Stored headers were validated by the API; checking again keeps a hand-edited row from
    // overriding a signature header or breaking the request framing.
    for (const [name, value] of Object.entries(endpoint.headers)) {
      if (headerProblem(name, value) === undefined) headers[name.toLowerCase()] = value;
    }
    headers['content-type'] = 'application/json';
    const signature = signatureHeader(endpoint.secrets, msgId, timestamp, body, now);
    if (config.signatureHeaders !== 'svix') {
      headers['webhook-id'] = msgId;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signature;
    }
    if (config.signatureHeaders !== 'webhook') {
      headers['svix-id'] = msgId;
      headers['svix-timestamp'] = String(timestamp);
      headers['svix-signature'] = signature;
    }
    return headers;
  }

  interface Observed {
    status: number;
    response: string;
    durationMs: number;
  }

  function observed(result: SendResult): Observed {
    return result.kind === 'response'
      ? { status: result.status, response: result.body, durationMs: result.durationMs }
      : { status: 0, response: result.reason, durationMs: result.durationMs };
  }

  /** Queues the outcome; resolves once it is committed (or recording it was given up). */
  function record(
    task: ClaimedTask,
    started: number,
    url: string,
    seen: Observed,
    decide: Decide,
  ): Promise<void> {
    const { next, nextAttemptAt } = decide(task.attempts, clock());
    const outcome: AttemptOutcome = {
      attempt: {
        id: newId('attempt', started),
        appId: task.appId,
        msgId: task.msgId,
        endpointId: task.endpointId,
        deliveryId: task.deliveryId,
        url,
        status: next === MessageStatus.success ? MessageStatus.success : MessageStatus.fail,
        responseStatusCode: seen.status,
        response: seen.response,
        responseDurationMs: seen.durationMs,
        triggerType: task.triggerType,
        createdAt: started,
      },
      next,
      nextAttemptAt,
    };
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        { deliveryId: task.deliveryId, msgId: task.msgId, url, status: seen.status, next, nextAttemptAt },
        'delivery attempt finished',
      );
    }
    return new Promise((recorded) => {
      queued.push({ outcome, recorded });
      scheduleFlush();
    });
  }

  function scheduleFlush(): void {
    if (flushScheduled || flushing) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (queued.length > 0) scheduleFlush();
      });
    });
  }

  async function flush(): Promise<void> {
    const entries = queued.splice(0);
    if (entries.length === 0) return;
    try {
      await writeOutcomes(entries.map((entry) => entry.outcome));
    } finally {
      for (const entry of entries) entry.recorded();
    }
  }

  async function writeOutcomes(batch: AttemptOutcome[]): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await storage.deliveries.complete(batch);
        break;
      } catch (error) {
        if (tries >= COMPLETE_TRIES) {
          // The leases lapse and these deliveries are attempted again: duplicates, never losses.
          logger.error(
            { err: toError(error), count: batch.length },
            'recording delivery attempts failed; giving up',
          );
          return;
        }
        logger.warn(
          { err: toError(error), count: batch.length, tries },
          'recording delivery attempts failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, 200 * tries));
      }
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const outcome of batch) {
      if (outcome.nextAttemptAt !== null && outcome.nextAttemptAt < earliest)
        earliest = outcome.nextAttemptAt;
    }
    if (earliest !== Number.POSITIVE_INFINITY) armTimer(earliest);
  }

  async function drainFlushes(): Promise<void> {
    while (flushing || flushScheduled || queued.length > 0) {
      if (flushing) await flushing;
      else if (queued.length > 0 && !flushScheduled) scheduleFlush();
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  return {
    async start() {
      if (state !== 'new') throw new Error('the dispatcher was already started');
      if (config.deliveryTimeout >= config.leaseDuration) {
        logger.warn(
          { deliveryTimeout: config.deliveryTimeout, leaseDuration: config.leaseDuration },
          'HOOKYARD_DELIVERY_TIMEOUT is not shorter than HOOKYARD_LEASE_DURATION: slow attempts may be delivered twice',
        );
      }
      if (!storage.capabilities.multipleWriters) {
        // Only this process writes, so every lease left in the database belongs to a dead one.
        const released = await storage.deliveries.releaseLeases(clock());
        if (released > 0) logger.info({ released }, 'resumed deliveries leased by a previous run');
      }
      state = 'running';
      unsubscribe = storage.subscribeWork(wake);
      poll = setInterval(wake, pollIntervalMs);
      wake();
    },

    async close() {
      if (state === 'closed' || state === 'closing') return;
      state = 'closing';
      unsubscribe?.();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      await claiming;
      if (inFlight.size > 0) {
        let bound: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          bound = setTimeout(() => resolve('expired'), drainTimeoutMs);
        });
        const outcome = await Promise.race([Promise.all(inFlight).then(() => 'drained' as const), expired]);
        clearTimeout(bound);
        if (outcome === 'expired') {
          logger.warn(
            { inFlight: inFlight.size },
            'delivery attempts still running at shutdown were abandoned',
          );
          abort.abort();
          await Promise.all(inFlight);
        }
      }
      await drainFlushes();
      state = 'closed';
    },
  };
}
