/**
 * When a claim loop claims: the wake discipline the claim loop and the ordered loop share.
 *
 * Wakes come from the storage's work notices (`subscribe`), a slow poll that catches work other
 * processes made due without a notice, a timer at the earliest known due time (`armTimer`), and
 * whatever the loop itself calls `wake` for. One pass runs at a time: a wake during a pass marks it
 * to run once more instead of being lost. A pass says what comes next:
 *
 * - `more`: it claimed a full batch with room left, so claim again at once;
 * - `idle`: nothing more is due now (it armed the timer for what is due later); run again only if a
 *   wake came meanwhile;
 * - `stop`: leave it to a later wake (the loop is full, or storage failed and a retry is armed), even
 *   if one came meanwhile.
 */
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';

export type PassResult = 'more' | 'idle' | 'stop';

export interface ClaimPumpDeps {
  readonly clock: () => number;
  readonly pollIntervalMs: number;
  /** Subscribes to the storage's notices that work may be due; returns the unsubscribe. */
  readonly subscribe: (wake: () => void) => () => void;
  /** Whether a pass could claim anything now (a free slot); false skips the wake. */
  readonly ready: () => boolean;
  readonly pass: () => Promise<PassResult>;
  readonly logger: Logger;
}

export interface ClaimPump {
  start(): void;
  wake(): void;
  /** Work becomes due at `at`: wake by then. */
  armTimer(at: number): void;
  /**
   * The end of a short pass: arms the timer at the next due time `read` returns (none: the poll and
   * the notices will do), or, should reading it fail, for a retry a second from now. Always `idle`.
   */
  restUntilDue(read: () => Promise<number | null>, what: string): Promise<PassResult>;
  readonly running: boolean;
  /**
   * Running, no pass under way, and the last one ended `idle`: nothing was left due when it looked,
   * so work made now is the oldest due (what ingest's hand-off relies on to keep claims oldest-first).
   */
  readonly resting: boolean;
  /** No more passes; resolves once the one running (if any) has ended. */
  stop(): Promise<void>;
}

/** Floor between timer-driven claims, so due-but-locked rows (another worker's claim) cannot spin us. */
const MIN_SLEEP_MS = 10;
/** How soon to try again after storage failed a claim or a due-time read. */
export const STORAGE_RETRY_MS = 1_000;

export function createClaimPump(deps: ClaimPumpDeps): ClaimPump {
  const { clock, pollIntervalMs } = deps;
  let running = false;
  let passing: Promise<void> | undefined;
  let again = false;
  let last: PassResult | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let poll: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  function wake(): void {
    if (!running) return;
    if (passing) {
      again = true;
      return;
    }
    if (!deps.ready()) return;
    passing = run().finally(() => {
      passing = undefined;
    });
  }

  async function run(): Promise<void> {
    while (running) {
      again = false;
      const next = await deps.pass();
      last = next;
      if (next === 'stop' || (next === 'idle' && !again)) return;
    }
  }

  function armTimer(at: number): void {
    if (!running || at >= timerAt) return;
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

  async function restUntilDue(read: () => Promise<number | null>, what: string): Promise<PassResult> {
    try {
      const due = await read();
      if (due !== null) armTimer(due);
    } catch (error) {
      deps.logger.error({ err: toError(error) }, `reading the next ${what} due time failed`);
      armTimer(clock() + STORAGE_RETRY_MS);
    }
    return 'idle';
  }

  return {
    start() {
      running = true;
      unsubscribe = deps.subscribe(wake);
      poll = setInterval(wake, pollIntervalMs);
      wake();
    },
    wake,
    armTimer,
    restUntilDue,
    get running() {
      return running;
    },
    get resting() {
      return running && passing === undefined && last === 'idle';
    },
    async stop() {
      running = false;
      unsubscribe?.();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      await passing;
    },
  };
}
