/**
 * The scenarios, and running one contender through one of them:
 *   receivers up -> contender started fresh -> warm-up events delivered -> (receivers stalled) -> CPU
 *   baseline -> load -> (receivers up) -> wait until every accepted event has reached every endpoint
 *   (or progress stops, or the deadline passes) -> stats -> contender and receivers stopped.
 * The warm-up (ids below `warmup`, excluded from every number) lets each contender open its connections
 * and let V8 compile its hot paths, so a short quick run measures the steady state, not start-up.
 * Each scenario gets a fresh contender (new process, empty database / Redis / data dir), so peak RSS and
 * CPU belong to that scenario alone and no queue carries over.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContenderDef, RunningContender } from './contenders.ts';
import { type CostWindow, createCostMeter } from './cost.ts';
import { type LoadResult, sendAtRate, sendClosedLoop } from './load.ts';
import { createStatsMeter } from './proc-stats.ts';
import { createReceivers, type ReceiverGroup } from './receiver.ts';

export const scenarioNames = ['steady', 'latency', 'fanout', 'backlog', 'flaky', 'million'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface ScenarioDef {
  readonly name: ScenarioName;
  readonly title: string;
  readonly endpoints: number;
  /** Events to send; with `durationMs`, the most that can be sent (sizes the bench's arrays). */
  readonly messages: number;
  /** Closed loop for this long instead of for a count (the steady scenario: 64 producers for 10 s). */
  readonly durationMs?: number;
  /** Fixed send rate per second; undefined = as fast as `concurrency` requests in flight allow. */
  readonly rate?: number;
  readonly concurrency: number;
  readonly failFraction: number;
  /** Receivers hold every request until ingest is over (backlog), and for `million` never answer. */
  readonly stalled: boolean;
  readonly drain: boolean;
  readonly retryDelaysMs: readonly number[];
  readonly warmup: number;
}

/** The flaky scenario's retry schedule, given to every contender (Hookyard: 100ms,200ms,400ms,1s). */
const retryDelaysMs = [100, 200, 400, 1_000] as const;
/** Producers: requests in flight in every closed-loop scenario. */
const ingestConcurrency = 64;

// BENCH_MILLION_MESSAGES lowers the count to try the scenario out without waiting for a million.
const millionCount = Number(process.env['BENCH_MILLION_MESSAGES'] ?? 1_000_000);

export function scenarioDefs(quick: boolean): Record<ScenarioName, ScenarioDef> {
  const base = {
    concurrency: ingestConcurrency,
    failFraction: 0,
    stalled: false,
    drain: true,
    retryDelaysMs,
    warmup: quick ? 150 : 2_000,
  };
  return {
    steady: {
      ...base,
      name: 'steady',
      title: '(a) steady, 1 endpoint',
      endpoints: 1,
      // Room for 40,000 events/s, several times what the fastest contender reaches here.
      messages: quick ? 120_000 : 400_000,
      durationMs: quick ? 3_000 : 10_000,
    },
    latency: {
      ...base,
      name: 'latency',
      title: '(b) latency at 1,000 msg/s',
      endpoints: 1,
      messages: quick ? 1_000 : 15_000,
      rate: 1_000,
    },
    fanout: {
      ...base,
      name: 'fanout',
      title: '(c) fan-out to 10 endpoints',
      endpoints: 10,
      messages: quick ? 120 : 2_000,
    },
    backlog: {
      ...base,
      name: 'backlog',
      title: '(d) backlog drain',
      endpoints: 1,
      messages: quick ? 3_000 : 100_000,
      stalled: true,
    },
    flaky: {
      ...base,
      name: 'flaky',
      title: '(e) flaky receiver, 20 % 500s',
      endpoints: 1,
      messages: quick ? 600 : 10_000,
      failFraction: 0.2,
    },
    million: {
      ...base,
      name: 'million',
      title: `RSS with ${millionCount.toLocaleString('en-US')} queued`,
      endpoints: 1,
      messages: millionCount,
      stalled: true,
      drain: false,
    },
  };
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface ScenarioResult {
  readonly contender: string;
  readonly scenario: ScenarioName;
  readonly status: 'ok' | 'incomplete' | 'failed' | 'unavailable';
  readonly note?: string;
  readonly messages: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejections: Readonly<Record<string, number>>;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly failuresInjected: number;
  /** Accepted events per second during the send phase. */
  readonly ingestPerSec: number;
  /** Distinct deliveries per second; for backlog, from the receiver coming up to the last delivery. */
  readonly deliveriesPerSec: number;
  /** Seconds from the first send to the last delivery (backlog: receiver up to last delivery). */
  readonly seconds: number;
  /** Accepted (2xx received by the sender) -> delivered (receiver got the request), per delivery. */
  readonly latencyMs?: Percentiles;
  /** Request sent -> delivered, per delivery: includes the time ingest took to answer. */
  readonly endToEndMs?: Percentiles;
  readonly cpuSeconds?: number;
  /** cpuSeconds split: the contender's own processes, and the PostgreSQL backends of its database. */
  readonly ownCpuSeconds?: number;
  readonly databaseCpuSeconds?: number;
  /** write_bytes (/proc/<pid>/io) of the contender's own processes and of its PostgreSQL backends. */
  readonly ownWriteBytes?: number;
  readonly databaseWriteBytes?: number;
  /** CPU seconds of each Hookyard process by role (hookyard-api, hookyard-worker, hookyard-all). */
  readonly cpuByProcess?: Readonly<Record<string, number>>;
  /** SQL counters of the window (bench/cost.ts), for the cost per delivery. */
  readonly cost?: CostWindow;
  readonly peakRssMb?: number;
  /** CPU the bench itself used (load generator + receivers); near 1.0 per second means it was the limit. */
  readonly benchCpuSeconds?: number;
}

export function unavailableResult(contender: string, scenario: ScenarioDef, reason: string): ScenarioResult {
  return {
    contender,
    scenario: scenario.name,
    status: 'unavailable',
    note: reason,
    messages: scenario.messages,
    accepted: 0,
    rejected: 0,
    rejections: {},
    expectedDeliveries: 0,
    delivered: 0,
    duplicates: 0,
    failuresInjected: 0,
    ingestPerSec: 0,
    deliveriesPerSec: 0,
    seconds: 0,
  };
}

function percentiles(values: Float64Array): Percentiles | undefined {
  if (values.length === 0) return undefined;
  values.sort();
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: values[values.length - 1]! };
}

function latencies(
  load: LoadResult,
  receivers: ReceiverGroup,
  firstId: number,
  from: 'accepted' | 'sent',
): Float64Array {
  const start = from === 'accepted' ? load.acceptedAt : load.sentAt;
  const out: number[] = [];
  for (const times of receivers.deliveredAt) {
    for (let id = firstId; id < times.length; id++) {
      const delivered = times[id]!;
      const began = start[id]!;
      // A delivery can reach the receiver a fraction of a millisecond before the 202 reaches the
      // sender; that is zero latency, not negative.
      if (!Number.isNaN(delivered) && !Number.isNaN(began)) out.push(Math.max(0, delivered - began));
    }
  }
  return Float64Array.from(out);
}

/** Distinct deliveries of ids >= firstId, over every receiver. */
function deliveredFrom(receivers: ReceiverGroup, firstId: number): number {
  let count = 0;
  for (const times of receivers.deliveredAt) {
    for (let id = firstId; id < times.length; id++) if (!Number.isNaN(times[id]!)) count++;
  }
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface WaitOutcome {
  readonly complete: boolean;
  readonly why?: string;
}

/**
 * Waits until `expected` distinct deliveries arrived. Gives up when nothing new arrived for `idleMs`
 * (a contender that lost or gave up on events would otherwise hold the run to its deadline), when
 * the deadline passes, or when one of the contender's processes exits.
 */
async function waitForDeliveries(
  receivers: ReceiverGroup,
  expected: number,
  running: RunningContender,
  idleMs: number,
  deadline: number,
): Promise<WaitOutcome> {
  let seen = receivers.delivered();
  let progressAt = performance.now();
  while (receivers.delivered() < expected) {
    const now = performance.now();
    if (receivers.delivered() !== seen) {
      seen = receivers.delivered();
      progressAt = now;
    }
    const dead = running.children.find((child) => !child.isAlive());
    if (dead) return { complete: false, why: `${dead.name} exited: ${dead.why()}` };
    if (now - progressAt > idleMs) return { complete: false, why: `no delivery for ${idleMs / 1000} s` };
    if (now > deadline) return { complete: false, why: 'deadline passed' };
    await sleep(20);
  }
  return { complete: true };
}

export interface RunOptions {
  readonly workDir: string;
  readonly quick: boolean;
  /** Called with a short status while the scenario runs (for the progress line). */
  readonly onPhase: (phase: string) => void;
}

export async function runScenario(
  contender: ContenderDef,
  scenario: ScenarioDef,
  options: RunOptions,
): Promise<ScenarioResult> {
  const workDir = join(options.workDir, `${contender.name}-${scenario.name}`);
  await mkdir(workDir, { recursive: true });
  const warmup = scenario.warmup;
  const receivers = await createReceivers({
    count: scenario.endpoints,
    capacity: warmup + scenario.messages,
    initial: 'up',
    failFraction: scenario.failFraction,
  });
  let running: RunningContender | undefined;
  let measuredResult: ScenarioResult | undefined;
  let cost: ReturnType<typeof createCostMeter> | undefined;
  try {
    options.onPhase('starting');
    running = await contender.start({
      targets: receivers.urls,
      workDir,
      retryDelaysMs: scenario.retryDelaysMs,
    });
    const meter = createStatsMeter(running.stats);
    cost = running.cost ? createCostMeter(running.cost) : undefined;
    try {
      options.onPhase(`warming up (${warmup})`);
      const warm = await sendClosedLoop(
        running.ingest,
        0,
        warmup,
        scenario.concurrency,
        performance.now() + (options.quick ? 10_000 : 30_000),
      );
      const warmWait = await waitForDeliveries(
        receivers,
        warm.accepted * scenario.endpoints,
        running,
        options.quick ? 5_000 : 10_000,
        performance.now() + (options.quick ? 10_000 : 30_000),
      );
      if (warm.rejected > 0 || !warmWait.complete) {
        throw new Error(
          `warm-up failed: ${warm.accepted}/${warmup} accepted ${JSON.stringify(warm.rejections)}, ${warmWait.why ?? 'delivered'}`,
        );
      }
      if (scenario.stalled) receivers.stall();
      await cost?.begin();
      await meter.begin();
      const benchCpuStart = process.cpuUsage();
      // Bounds: sending may take at most this long (a contender slower than ~100 events/s is reported
      // as incomplete rather than holding up the run), and the wait afterwards at most as long again.
      const budgetMs =
        scenario.durationMs ??
        (options.quick ? 8_000 : 60_000) + scenario.messages * (options.quick ? 2 : 10);
      const sendDeadline = performance.now() + budgetMs;
      options.onPhase(
        scenario.durationMs
          ? `sending for ${scenario.durationMs / 1000} s`
          : `sending ${scenario.messages.toLocaleString('en-US')}`,
      );
      const load = scenario.rate
        ? await sendAtRate(running.ingest, warmup, scenario.messages, scenario.rate, 5_000, sendDeadline)
        : await sendClosedLoop(running.ingest, warmup, scenario.messages, scenario.concurrency, sendDeadline);
      const ingestSeconds = (load.lastAcceptedAt - load.firstSentAt) / 1000;
      const expected = load.accepted * scenario.endpoints;
      const expectedTotal = expected + warm.accepted * scenario.endpoints;

      let upAt = Number.NaN;
      let wait: WaitOutcome = { complete: true };
      if (scenario.stalled && scenario.drain) {
        options.onPhase('receiver up, draining');
        upAt = performance.now();
        await receivers.up();
      } else if (!scenario.drain) {
        // `million`: nothing is delivered on purpose; let in-flight writes settle before reading RSS.
        await sleep(1_000);
      }
      if (scenario.drain) {
        options.onPhase('waiting for deliveries');
        const waitBudgetMs = Math.max(budgetMs, options.quick ? 8_000 : 60_000);
        wait = await waitForDeliveries(
          receivers,
          expectedTotal,
          running,
          options.quick ? 4_000 : 15_000,
          performance.now() + waitBudgetMs,
        );
      }
      // Outcomes are recorded in batches just after the last delivery; let them land inside the
      // window, so the cost per delivery includes them (rates use the last delivery's time, not this).
      if (scenario.drain) await sleep(250);
      const stats = await meter.end();
      await cost?.end();
      const benchCpu = process.cpuUsage(benchCpuStart);
      const delivered = deliveredFrom(receivers, warmup);
      const last = receivers.lastDeliveryAt();
      const spanStart = scenario.stalled ? upAt : load.firstSentAt;
      const seconds = Number.isNaN(last) ? 0 : (last - spanStart) / 1000;
      const timed = scenario.drain && !scenario.stalled;
      const rejected = load.rejected;
      const rejectedNote =
        rejected > 0 ? ` ${rejected} events rejected at ingest: ${JSON.stringify(load.rejections)}` : '';
      measuredResult = {
        contender: contender.name,
        scenario: scenario.name,
        status: wait.complete && rejected === 0 ? 'ok' : 'incomplete',
        ...(wait.complete && rejectedNote === ''
          ? {}
          : {
              note: `${wait.why ? `delivered ${delivered} of ${expected}: ${wait.why}.` : ''}${rejectedNote}`.trim(),
            }),
        // A duration-bound scenario sends what it can in its time: report what it sent.
        messages: scenario.durationMs ? load.accepted + rejected : scenario.messages,
        accepted: load.accepted,
        rejected,
        rejections: load.rejections,
        expectedDeliveries: expected,
        delivered,
        duplicates: receivers.duplicates(),
        failuresInjected: receivers.failuresSent(),
        ingestPerSec: ingestSeconds > 0 ? load.accepted / ingestSeconds : 0,
        deliveriesPerSec: scenario.drain && seconds > 0 ? delivered / seconds : 0,
        seconds,
        ...(timed ? withLatency(load, receivers, warmup) : {}),
        cpuSeconds: stats.cpuSeconds,
        ownCpuSeconds: stats.ownCpuSeconds,
        databaseCpuSeconds: stats.databaseCpuSeconds,
        ownWriteBytes: stats.ownWriteBytes,
        databaseWriteBytes: stats.databaseWriteBytes,
        ...(Object.keys(stats.cpuByName).length > 0 ? { cpuByProcess: stats.cpuByName } : {}),
        peakRssMb: stats.peakRssMb,
        benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      };
    } finally {
      meter.stop();
    }
  } catch (error) {
    const reason = (error as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 400);
    return { ...unavailableResult(contender.name, scenario, reason), status: 'failed' };
  } finally {
    options.onPhase('stopping');
    await running?.close();
    await receivers.close();
  }
  if (!cost) return measuredResult;
  // PostgreSQL's per-database counters are complete once the contender's backends have exited.
  try {
    return { ...measuredResult, cost: await cost.finish() };
  } catch (error) {
    return {
      ...measuredResult,
      note: `${measuredResult.note ?? ''} cost counters: ${(error as Error).message}`.trim(),
    };
  }
}

function withLatency(
  load: LoadResult,
  receivers: ReceiverGroup,
  firstId: number,
): Pick<ScenarioResult, 'latencyMs' | 'endToEndMs'> {
  const accepted = percentiles(latencies(load, receivers, firstId, 'accepted'));
  const endToEnd = percentiles(latencies(load, receivers, firstId, 'sent'));
  return { ...(accepted ? { latencyMs: accepted } : {}), ...(endToEnd ? { endToEndMs: endToEnd } : {}) };
}
