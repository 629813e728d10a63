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
 * Fairness: at most `endpointConcurrency` requests per endpoint are in flight here (a request's
 * endpoint slot frees when its response arrives; its global slot when its outcome commits). A claimed
 * task whose endpoint is at the cap waits in that endpoint's local queue (it is leased already) and
 * starts the moment one of the endpoint's requests ends, with no database round trip: that keeps one
 * hot endpoint at full speed. Queued tasks hold no request slot, so a dead or slow endpoint holds at
 * most `endpointConcurrency` of them and cannot starve the others. The local queues are bounded (per
 * endpoint and in all); the claim asks `admit` about each task it leased, and beyond those bounds the
 * task is parked: it stays leased to this process, out of the due range, so a saturated endpoint's
 * backlog is claimed once, not over and over. Once a quarter of the endpoint's local queue has
 * drained, parked tasks are unparked to top it up and claimed again. Should this process die,
 * parked tasks come back when their lease runs out (on SQLite, at the next start), like any lease.
 *
 * The other endpoint policies (disable, circuit, pause, throttle) are decided by storage in the same
 * claim; outcomes carry what each attempt says about its endpoint (`signal`) to the completion.
 *
 * close(): no more claims → in-flight attempts get up to `drainTimeoutMs` → the rest are aborted and
 * not recorded (their leases lapse, or releaseLeases frees them at the next start) → completions flush.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/settings.ts';
import type { HttpClient, SendResult } from '../delivery/http-client.ts';
import { headerProblem } from '../domain/endpoint-headers.ts';
import { pauseUntil } from '../domain/endpoint-policy.ts';
import { newId } from '../domain/ids.ts';
import { type Classification, classifyError, classifyStatus } from '../domain/outcome-classification.ts';
import { type NextState, nextState } from '../domain/retry-policy.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import {
  FAILING_AFTER_ATTEMPTS,
  type MessageAttemptRef,
  type OperationalEvent,
  type OperationalSink,
} from '../operational/events.ts';
import { signatureHeader } from '../signing/sign.ts';
import {
  type AttemptOutcome,
  type AttemptSignal,
  type ClaimAdmission,
  type ClaimedTask,
  type CompletionReport,
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
  | 'retrySchedule'
  | 'deliveryTimeout'
  | 'deliveryConcurrency'
  | 'signatureHeaders'
  | 'leaseDuration'
  | 'endpointConcurrency'
  | 'backpressurePause'
  | 'backpressureMaxPause'
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
  /** Receives message.attempt.failing/exhausted/recovered and endpoint.disabled; none when absent. */
  readonly operational?: OperationalSink | undefined;
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
  // Half the slots by default: a hot endpoint keeps enough requests in flight to hide event-loop
  // latency, and one that hangs still leaves the other half to everyone else.
  const endpointCap = Math.min(
    config.endpointConcurrency || Math.max(1, Math.floor(concurrency / 2)),
    concurrency,
  );
  const operational = deps.operational;

  let state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  let claiming: Promise<void> | undefined;
  let again = false;
  let saturated = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let poll: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();
  /** Requests in flight per endpoint: what the cap counts. */
  const perEndpoint = new Map<string, number>();
  const requestsTo = (endpointId: string) => perEndpoint.get(endpointId) ?? 0;
  /** Leased tasks waiting for a slot of their endpoint, and how many there are in all. */
  const waiting = new Map<string, ClaimedTask[]>();
  let waitingTotal = 0;
  /** Tasks admitted by the claim running now, per endpoint: to start, and to queue (and in all). */
  const admittedToStart = new Map<string, number>();
  const admittedToQueue = new Map<string, number>();
  let admittedToQueueTotal = 0;
  let parkedNow = 0;
  /** The last claim parked tasks of an endpoint at its cap: claim again when a request ends. */
  let capped = false;
  /**
   * A hot endpoint keeps two claims' worth queued locally, so its requests never wait on the database:
   * the next unpark and claim (two round trips) happen while the queue still has work.
   */
  const queuePerEndpoint = Math.max(endpointCap, 2 * CLAIM_BATCH);
  /**
   * Endpoints with tasks parked by this process, each with a count of parks: an unpark that found
   * fewer rows than it asked for proves nothing is left only if no claim parked more meanwhile.
   */
  const parked = new Map<string, number>();
  const unparking = new Set<string>();
  const abort = new AbortController();
  /** Outcomes waiting for the next flush, each with the resolver of the attempt that made it. */
  const queued: Array<{ outcome: AttemptOutcome; task: ClaimedTask; recorded: () => void }> = [];
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
      const now = clock();
      admittedToStart.clear();
      admittedToQueue.clear();
      admittedToQueueTotal = 0;
      parkedNow = 0;
      try {
        tasks = await storage.deliveries.claim(owner, limit, now, config.leaseDuration, admission());
      } catch (error) {
        logger.error({ err: toError(error) }, 'claiming deliveries failed; retrying');
        armTimer(clock() + STORAGE_RETRY_MS);
        return;
      }
      // Tasks claimed while close() began are still ours: deliver them as part of the drain.
      for (const task of tasks) startOrQueue(task);
      if (parkedNow > 0) {
        // The cap is what limits us now, not the backlog: claim again once a request ends.
        capped = true;
        return;
      }
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

  /** The per-endpoint bounds, asked by the claim for each task it leased. */
  function admission(): ClaimAdmission {
    return ({ endpointId }) => {
      const toStart = admittedToStart.get(endpointId) ?? 0;
      if (requestsTo(endpointId) + toStart < endpointCap) {
        admittedToStart.set(endpointId, toStart + 1);
        return undefined;
      }
      const queued = waiting.get(endpointId)?.length ?? 0;
      const toQueue = admittedToQueue.get(endpointId) ?? 0;
      if (queued + toQueue < queuePerEndpoint && waitingTotal + admittedToQueueTotal < concurrency) {
        admittedToQueue.set(endpointId, toQueue + 1);
        admittedToQueueTotal++;
        return undefined;
      }
      parkedNow++;
      parked.set(endpointId, (parked.get(endpointId) ?? 0) + 1);
      return 'park';
    };
  }

  /** Tops the endpoint's local queue up from its parked tasks once a quarter of it has drained. */
  function maybeUnpark(endpointId: string): void {
    if (!parked.has(endpointId) || unparking.has(endpointId) || state !== 'running') return;
    const queued = waiting.get(endpointId)?.length ?? 0;
    if (queued > (queuePerEndpoint * 3) / 4) return;
    const limit = queuePerEndpoint - queued;
    const parks = parked.get(endpointId);
    unparking.add(endpointId);
    storage.deliveries
      .unpark(owner, endpointId, clock(), limit)
      .then(
        (count) => {
          if (count < limit && parked.get(endpointId) === parks) parked.delete(endpointId);
          if (count > 0) wake();
        },
        (error: unknown) => logger.error({ err: toError(error), endpointId }, 'unparking deliveries failed'),
      )
      .finally(() => {
        unparking.delete(endpointId);
        // Rows parked while this unpark ran may have no response left to trigger the next one.
        if (parked.get(endpointId) !== parks) maybeUnpark(endpointId);
      });
  }

  /** Starts the task, or parks it in its endpoint's local queue while the endpoint is at its cap. */
  function startOrQueue(task: ClaimedTask): void {
    if (requestsTo(task.endpointId) < endpointCap && inFlight.size < concurrency) {
      startAttempt(task);
      return;
    }
    const queue = waiting.get(task.endpointId);
    if (queue) queue.push(task);
    else waiting.set(task.endpointId, [task]);
    waitingTotal++;
  }

  /** Starts queued tasks whose endpoint has a free request slot, while global slots remain. */
  function startWaiting(): void {
    for (const [endpointId, queue] of waiting) {
      while (queue.length > 0 && inFlight.size < concurrency && requestsTo(endpointId) < endpointCap) {
        waitingTotal--;
        startAttempt(queue.shift()!);
      }
      if (queue.length === 0) waiting.delete(endpointId);
      if (inFlight.size >= concurrency) return;
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
    perEndpoint.set(task.endpointId, requestsTo(task.endpointId) + 1);
    let requesting = true;
    /** The request is over (its outcome may still be committing): the endpoint slot frees. */
    const responded = () => {
      if (!requesting) return;
      requesting = false;
      const left = requestsTo(task.endpointId) - 1;
      if (left > 0) perEndpoint.set(task.endpointId, left);
      else perEndpoint.delete(task.endpointId);
      if (state !== 'running') return;
      startWaiting();
      maybeUnpark(task.endpointId);
      if (capped) {
        capped = false;
        wake();
      }
    };
    const running: Promise<void> = attempt(task, responded)
      .catch((error: unknown) => {
        // Not recorded: the lease lapses and the task is claimed again.
        logger.error({ err: toError(error), deliveryId: task.deliveryId }, 'delivery attempt crashed');
      })
      .finally(() => {
        responded();
        inFlight.delete(running);
        if (state === 'running') startWaiting();
        if (saturated) {
          saturated = false;
          wake();
        }
      });
    inFlight.add(running);
  }

  async function attempt(task: ClaimedTask, responded: () => void): Promise<void> {
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
    // No check of `endpoint.disabled` here: the claim read it from the database in the same
    // transaction that leased the task (and held the task if it was set), while this cache may lag.
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
        signalOf(classifyError('ENOSECRET'), false, undefined, started),
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
    responded();
    if (result.kind === 'error' && result.errno === 'ABORTED') return;
    const classification =
      result.kind === 'response' ? classifyStatus(result.status) : classifyError(result.errno);
    const retryAfter = result.kind === 'response' ? result.retryAfter : undefined;
    await record(
      task,
      started,
      endpoint.url,
      observed(result),
      (attemptsBefore, now) =>
        nextState({
          classification,
          attemptsBefore,
          schedule: config.retrySchedule,
          now,
          retryAfter,
          random,
        }),
      signalOf(classification, result.kind === 'response', retryAfter, clock()),
    );
  }

  function signalOf(
    classification: Classification,
    responded: boolean,
    retryAfter: string | undefined,
    now: number,
  ): AttemptSignal {
    return {
      responded,
      unreachable: classification.unreachable,
      gone: classification.gone,
      pauseUntil: classification.slowDown
        ? pauseUntil(retryAfter, now, {
            defaultPauseMs: config.backpressurePause,
            maxPauseMs: config.backpressureMaxPause,
          })
        : null,
    };
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
    signal?: AttemptSignal,
  ): Promise<void> {
    const { next, nextAttemptAt } = decide(task.attempts, clock());
    const outcome: AttemptOutcome = {
      signal,
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
      queued.push({ outcome, task, recorded });
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
      const report = await writeOutcomes(entries.map((entry) => entry.outcome));
      if (report && operational) await emitEvents(operational, entries, report);
    } finally {
      for (const entry of entries) entry.recorded();
    }
  }

  /** Operational events for a committed batch; an event that cannot be stored is logged, never retried. */
  async function emitEvents(
    sink: OperationalSink,
    entries: ReadonlyArray<{ outcome: AttemptOutcome; task: ClaimedTask }>,
    report: CompletionReport,
  ): Promise<void> {
    const events: OperationalEvent[] = [];
    for (const disabled of report.disabled) {
      events.push({
        type: 'endpoint.disabled',
        data: {
          appId: disabled.appId,
          endpointId: disabled.endpointId,
          failSince: new Date(disabled.failSince).toISOString(),
        },
      });
    }
    for (const { outcome, task } of entries) {
      const type = eventFor(outcome, task);
      if (type === undefined) continue;
      const data: MessageAttemptRef = {
        appId: task.appId,
        endpointId: task.endpointId,
        msgId: task.msgId,
        lastAttempt: {
          id: outcome.attempt.id,
          responseStatusCode: outcome.attempt.responseStatusCode,
          timestamp: new Date(outcome.attempt.createdAt).toISOString(),
        },
      };
      events.push({ type, data });
    }
    const results = await Promise.allSettled(events.map((event) => sink.emit(event)));
    results.forEach((result, index) => {
      if (result.status === 'rejected')
        logger.error({ err: toError(result.reason), type: events[index]?.type }, 'operational event lost');
    });
  }

  async function writeOutcomes(batch: AttemptOutcome[]): Promise<CompletionReport | undefined> {
    let report: CompletionReport | undefined;
    for (let tries = 1; ; tries++) {
      try {
        report = await storage.deliveries.complete(batch);
        break;
      } catch (error) {
        if (tries >= COMPLETE_TRIES) {
          // The leases lapse and these deliveries are attempted again: duplicates, never losses.
          logger.error(
            { err: toError(error), count: batch.length },
            'recording delivery attempts failed; giving up',
          );
          return undefined;
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
    return report;
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
      // A leased task may wait in its endpoint's local queue for one attempt, then take one itself.
      if (2 * config.deliveryTimeout >= config.leaseDuration) {
        logger.warn(
          { deliveryTimeout: config.deliveryTimeout, leaseDuration: config.leaseDuration },
          'HOOKYARD_LEASE_DURATION should exceed twice HOOKYARD_DELIVERY_TIMEOUT: slow attempts may be delivered twice',
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

/**
 * Which message event an attempt's outcome is: `failing` when it makes FAILING_AFTER_ATTEMPTS failures in
 * a row (unless it is also the last, which is `exhausted`), `recovered` when a delivery reported failing
 * succeeds. Attempts without an endpoint (deleted meanwhile) report nothing.
 */
export function eventFor(
  outcome: AttemptOutcome,
  task: Pick<ClaimedTask, 'failStreak'>,
): 'message.attempt.failing' | 'message.attempt.exhausted' | 'message.attempt.recovered' | undefined {
  if (outcome.attempt.url === '') return undefined;
  if (outcome.next === MessageStatus.success)
    return task.failStreak >= FAILING_AFTER_ATTEMPTS ? 'message.attempt.recovered' : undefined;
  if (outcome.next === MessageStatus.fail) return 'message.attempt.exhausted';
  return task.failStreak + 1 === FAILING_AFTER_ATTEMPTS ? 'message.attempt.failing' : undefined;
}
