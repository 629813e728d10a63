import type { Config } from '../config/settings.ts';
import type { Destination, DestinationOutcome, OutboundMessage } from '../delivery/destination.ts';
import { requestHeaders } from '../delivery/request-headers.ts';
import { newId } from '../domain/ids.ts';
import { batchBody, batchWebhookId, ORDERED_TYPE, orderedBatching } from '../domain/ordered-batch.ts';
import { nextState } from '../domain/retry-policy.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import { events, statusClassOf } from '../observability/events.ts';
import {
  type AttemptRecord,
  type EndpointRecord,
  MessageStatus,
  type OrderedEvent,
  type OrderedFinish,
  type OrderedLease,
  type Storage,
  TriggerType,
} from '../storage/contract.ts';
import { createClaimPump, type PassResult, STORAGE_RETRY_MS } from './claim-pump.ts';
import type { EndpointLookup } from './prepare.ts';

/**
 * The ordered loop: delivers ordered destinations (every fifoEndpoint, and a broker destination with
 * batching on: `orderedBatching`), one batch at a time per destination, beside the claim loop (which
 * never sees them: they have no `deliveries` rows). A fifoEndpoint's batch is one signed HTTP request;
 * a broker destination's is its messages published in turn, each signed as its own (`publish`).
 *
 *     idle ──wake──► claiming ──leases──► one turn per leased destination (at most `concurrency` at once)
 *      ▲                │ a full claim and free slots: claim again at once
 *      └────────────────┘ otherwise: sleep until the next due time (storage.ordered.nextDueAt)
 *
 *     turn: read the oldest batchSize queued ──nothing──► release
 *             ├─ short of batchSize, never attempted, maxWaitSecs not over ──► wait
 *             ├─ too little lease left to send within it ──► release (due again at once)
 *             └─ sign and send ──2xx (a broker: all confirmed)──► acked (durable) ──► claim again
 *                             ├─ failed, schedule left ──► retry at the scheduled time
 *                             ├─ failed, none left, or permanent ──► stopped (skip or force-retry)
 *                             └─ aborted (shutdown) ──► nothing: the lease lapses, the batch repeats
 *
 * A destination is sent by whoever holds its lease (storage.ordered.claim), and a turn sends only
 * while that lease holds: the attempt's timeout is cut to end a margin before the lease does. So one
 * worker of a fleet at a time sends a destination, and a batch whose worker died is sent again from
 * the same first message by the next one: a batch may repeat, and is never overtaken.
 *
 * The endpoint policies (circuit breaker, auto-disable, backpressure pauses, throttling) do not apply:
 * an ordered destination already backs off by blocking on its head batch.
 */
export type OrderedLoopConfig = Pick<
  Config,
  'retrySchedule' | 'deliveryTimeout' | 'signatureHeaders' | 'leaseDuration'
>;

export interface OrderedLoopDeps {
  readonly storage: Storage;
  readonly endpoints: EndpointLookup;
  readonly destination: Destination;
  readonly config: OrderedLoopConfig;
  readonly owner: string;
  /** Destinations sent at once by this process. */
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly clock: () => number;
  readonly random: () => number;
  readonly logger: Logger;
  /** Aborted when close() gives up waiting. */
  readonly signal: AbortSignal;
}

export interface OrderedLoop {
  start(): void;
  /** No more claims; resolves once every turn running has ended. */
  stop(): Promise<void>;
  /** Every running turn. */
  running(): ReadonlySet<Promise<void>>;
}

const CLAIM_BATCH = 100;
/**
 * A send must end this long before the lease does, for clock drift and the completion's commit; below
 * MIN_SEND_MS of lease left a turn does not start a send (it releases instead). Both shrink to a quarter
 * of a short lease, so that any lease still leaves room to send.
 */
const LEASE_MARGIN_MS = 2_000;
const MIN_SEND_MS = 1_000;

export function createOrderedLoop(deps: OrderedLoopDeps): OrderedLoop {
  const { storage, config, clock, logger } = deps;
  const leaseMargin = Math.min(LEASE_MARGIN_MS, config.leaseDuration / 4);
  const minSend = Math.min(MIN_SEND_MS, config.leaseDuration / 4);
  const turns = new Set<Promise<void>>();
  /**
   * Destinations with a turn running here, each with the newer lease a claim returned meanwhile (our
   * old lease lapsed, or the claim raced the turn's end): that lease starts its turn when the running
   * one ends, so one destination never has two turns at once here and no lease is left unused.
   */
  const busy = new Map<string, OrderedLease | undefined>();
  const pump = createClaimPump({
    clock,
    pollIntervalMs: deps.pollIntervalMs,
    subscribe: (wake) => storage.subscribeOrderedWork(wake),
    ready: () => turns.size < deps.concurrency, // a turn ending wakes us
    pass,
    logger,
  });

  async function pass(): Promise<PassResult> {
    const free = deps.concurrency - turns.size;
    if (free <= 0) return 'stop';
    const limit = Math.min(CLAIM_BATCH, free);
    let leases: OrderedLease[];
    try {
      leases = await storage.ordered.claim(deps.owner, limit, clock(), config.leaseDuration);
    } catch (error) {
      logger.error({ err: toError(error) }, 'claiming ordered destinations failed; retrying');
      pump.armTimer(clock() + STORAGE_RETRY_MS);
      return 'stop';
    }
    for (const lease of leases) {
      if (busy.has(lease.endpointId)) busy.set(lease.endpointId, lease);
      else start(lease);
    }
    if (leases.length === limit) return 'more';
    return pump.restUntilDue(() => storage.ordered.nextDueAt(), 'ordered');
  }

  function start(lease: OrderedLease): void {
    busy.set(lease.endpointId, undefined);
    const turn: Promise<void> = take(lease)
      .catch((error: unknown) => {
        // Not recorded: the lease lapses and the batch is sent again.
        logger.error(
          { err: toError(error), endpointId: lease.endpointId },
          'an ordered delivery turn crashed',
        );
      })
      .finally(() => {
        const next = busy.get(lease.endpointId);
        busy.delete(lease.endpointId);
        turns.delete(turn);
        if (next && pump.running) start(next);
        pump.wake();
      });
    turns.add(turn);
  }

  async function finish(lease: OrderedLease, result: OrderedFinish): Promise<void> {
    const held = await storage.ordered.finish(lease, result, clock());
    if ('attempt' in result && events.attemptFinished.hasSubscribers) {
      const { attempt } = result;
      // One event per batch attempt (the metrics count requests); no latency, which is per message.
      events.attemptFinished.publish({
        appId: attempt.appId,
        msgId: attempt.msgId,
        endpointId: attempt.endpointId,
        deliveryId: attempt.deliveryId,
        result: result.kind === 'acked' ? 'success' : result.kind === 'retry' ? 'retry' : 'fail',
        statusCode: attempt.responseStatusCode,
        statusClass: statusClassOf(attempt.responseStatusCode),
        durationMs: attempt.responseDurationMs,
        latencyMs: undefined,
      });
    }
    if (!held)
      logger.warn(
        { endpointId: lease.endpointId },
        'an ordered destination lease lapsed during its turn; the next holder sends the batch again',
      );
    if (result.kind === 'retry') pump.armTimer(result.at);
    if (result.kind === 'wait') pump.armTimer(result.until);
  }

  async function take(lease: OrderedLease): Promise<void> {
    const endpoint = await deps.endpoints.get(lease.endpointId);
    const batching = endpoint && orderedBatching(endpoint.destination);
    // Gone or not ordered (its rows go with it): never claimed back at once, so this cannot spin.
    if (!endpoint || !batching)
      return finish(lease, { kind: 'release', retryAt: clock() + deps.pollIntervalMs });
    const { batchSize, maxWaitSecs } = batching;
    const events = await storage.ordered.read(lease.endpointId, batchSize);
    const first = events[0];
    // Nothing readable. Anything still counted as queued belongs to messages deleted since (message
    // retention): look again after a poll interval rather than at once, and pass them with the next
    // batch, which acknowledges through its last number.
    if (!first) return finish(lease, { kind: 'release', retryAt: clock() + deps.pollIntervalMs });
    const now = clock();
    const fullAt = first.createdAt + maxWaitSecs * 1000;
    if (lease.attempts === 0 && events.length < batchSize && fullAt > now)
      return finish(lease, { kind: 'wait', until: fullAt, batchSize });
    const timeoutMs = Math.min(config.deliveryTimeout, lease.until - leaseMargin - now);
    if (timeoutMs < minSend) return finish(lease, { kind: 'release' });
    if (endpoint.destination?.type !== ORDERED_TYPE) return publish(lease, endpoint, events, now, timeoutMs);

    const body = batchBody(events);
    const webhookId = batchWebhookId(events);
    let headers: Record<string, string>;
    try {
      headers = requestHeaders(
        endpoint,
        webhookId,
        Math.floor(now / 1000),
        body,
        now,
        config.signatureHeaders,
      );
    } catch (error) {
      // No unexpired secret to sign with: retried on the schedule, as for any delivery.
      const reason = toError(error).message;
      const attempt = attemptOf(lease, endpoint, events, now, failed(reason), webhookId);
      return finish(lease, failure(lease, attempt, reason, { kind: 'retryable' }));
    }
    const sent = await deps.destination.send(
      endpoint,
      { msgId: webhookId, eventType: first.eventType, body, headers },
      { timeoutMs, signal: deps.signal },
    );
    if (sent.kind === 'aborted') return;
    const attempt = attemptOf(lease, endpoint, events, now, sent, webhookId);
    if (sent.kind === 'success') {
      await finish(lease, { kind: 'acked', attempt, through: events.at(-1) ?? first });
      return;
    }
    await finish(lease, failure(lease, attempt, sent.recorded.response, sent));
  }

  /**
   * A broker destination's batch: each message signed and published as the per-message path would
   * (its own webhook id, timestamp and signature over its payload), in order; acked once the broker
   * confirmed them all, else retried whole (a consumer may see the first ones again, never out of order).
   */
  async function publish(
    lease: OrderedLease,
    endpoint: EndpointRecord,
    queued: readonly OrderedEvent[],
    now: number,
    timeoutMs: number,
  ): Promise<void> {
    // A message whose payload was expunged ends the batch before it; at the head it stops the
    // destination: nothing can publish it, and passing over it unasked would break the order's promise.
    const cut = queued.findIndex((event) => event.payload === null);
    const events = cut > 0 ? queued.slice(0, cut) : queued;
    const webhookId = batchWebhookId(events);
    const last = events.at(-1)!;
    if (cut === 0) {
      const head = queued[0]!;
      const reason = `the payload of ${head.msgId} was expunged, so it cannot be published; skip it (POST .../skip with iterator ${head.msgId}) to go on`;
      const attempt = attemptOf(lease, endpoint, [head], now, failed(reason), head.msgId);
      return finish(lease, { kind: 'stopped', attempt, failure: reason });
    }
    let messages: OutboundMessage[];
    try {
      messages = events.map((event) => {
        const body = event.payload ?? '';
        const seconds = Math.floor(now / 1000);
        return {
          msgId: event.msgId,
          eventType: event.eventType,
          body,
          headers: requestHeaders(endpoint, event.msgId, seconds, body, now, config.signatureHeaders),
        };
      });
    } catch (error) {
      const reason = toError(error).message;
      const attempt = attemptOf(lease, endpoint, events, now, failed(reason), webhookId);
      return finish(lease, failure(lease, attempt, reason, { kind: 'retryable' }));
    }
    const options = { timeoutMs, signal: deps.signal };
    const sent = deps.destination.sendEach
      ? await deps.destination.sendEach(endpoint, messages, options)
      : await sendInTurn(deps.destination, endpoint, messages, options);
    if (sent.kind === 'aborted') return;
    const attempt = attemptOf(lease, endpoint, events, now, sent, webhookId);
    if (sent.kind === 'success') return finish(lease, { kind: 'acked', attempt, through: last });
    await finish(lease, failure(lease, attempt, sent.recorded.response, sent));
  }

  function failure(
    lease: OrderedLease,
    attempt: AttemptRecord,
    reason: string,
    sent: { kind: 'retryable'; retryAfterMs?: number | undefined } | { kind: 'permanent' },
  ): OrderedFinish {
    const next = nextState({
      classification: {
        success: false,
        retryable: sent.kind === 'retryable',
        slowDown: sent.kind === 'retryable' && sent.retryAfterMs !== undefined,
        gone: false,
        unreachable: false,
      },
      attemptsBefore: lease.attempts,
      schedule: config.retrySchedule,
      now: clock(),
      retryAfterMs: sent.kind === 'retryable' ? sent.retryAfterMs : undefined,
      random: deps.random,
    });
    const failureText = reason || `status ${attempt.responseStatusCode}`;
    return next.nextAttemptAt === null
      ? { kind: 'stopped', attempt, failure: failureText }
      : { kind: 'retry', attempt, at: next.nextAttemptAt, failure: failureText };
  }

  return {
    start: pump.start,
    stop: pump.stop,
    running: () => turns,
  };
}

/** A destination without `sendEach`: the messages one `send` after another, the first failure ending it. */
async function sendInTurn(
  destination: Destination,
  endpoint: EndpointRecord,
  messages: readonly OutboundMessage[],
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<DestinationOutcome> {
  const started = performance.now();
  let outcome: DestinationOutcome | undefined;
  for (const message of messages) {
    const timeoutMs = Math.max(1, Math.floor(options.timeoutMs - (performance.now() - started)));
    outcome = await destination.send(endpoint, message, { ...options, timeoutMs });
    if (outcome.kind !== 'success') return outcome;
  }
  return outcome ?? failed('an empty batch');
}

function failed(reason: string): Exclude<DestinationOutcome, { kind: 'aborted' }> {
  return {
    kind: 'retryable',
    recorded: { statusCode: 0, response: reason, durationMs: 0 },
    host: { reached: false, unreachable: false, gone: false, slowDown: false },
  };
}

/** The attempt record of one batch: it covers its first to its last message. */
function attemptOf(
  lease: OrderedLease,
  endpoint: EndpointRecord,
  events: readonly OrderedEvent[],
  started: number,
  sent: Exclude<DestinationOutcome, { kind: 'aborted' }>,
  webhookId: string,
): AttemptRecord {
  const first = events[0]!;
  return {
    id: newId('attempt', started),
    appId: endpoint.appId,
    msgId: first.msgId,
    endpointId: lease.endpointId,
    // A batch has no delivery row: the attempt names the batch (its webhook id) instead.
    deliveryId: webhookId,
    url: endpoint.url,
    status: sent.kind === 'success' ? MessageStatus.success : MessageStatus.fail,
    responseStatusCode: sent.recorded.statusCode,
    response: sent.recorded.response,
    ...(sent.recorded.headers ? { responseHeaders: sent.recorded.headers } : {}),
    responseDurationMs: sent.recorded.durationMs,
    triggerType: TriggerType.scheduled,
    createdAt: started,
    batch: { lastMsgId: (events.at(-1) ?? first).msgId, numEvents: events.length },
  };
}
