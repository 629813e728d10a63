/**
 * The endpoint policies as pure functions (docs/delivery-policies.md); storage keeps their state in
 * `endpoint_state` and applies what these decide inside the claim and completion transactions.
 *
 * ## An endpoint's circuit
 *
 *     closed ──`circuitThreshold` unreachable attempts in a row──► open (due deliveries held,
 *       ▲                                                           one kept due at next_probe_at)
 *       │                                                              │ claim at next_probe_at: one probe
 *       └──────────── any HTTP response (the host is up) ◄─────────────┘ still unreachable: next probe
 *                     held deliveries released                           one interval later
 *
 * Independently: any failure starts `failSince` (a success clears it); when every attempt has failed
 * for `disableAfterMs`, or a 410 arrives, the endpoint is disabled. 429/502/503/504 pause the endpoint
 * until `pausedUntil`.
 */
export type Circuit = 'closed' | 'open';

export interface EndpointHealth {
  /** The first failed attempt since the last success; null while healthy. */
  failSince: number | null;
  lastSuccessAt: number | null;
  /** Consecutive attempts that got no response because the host looked down. */
  unreachableCount: number;
  circuit: Circuit;
  /** Open circuit: when the next probe may start. */
  nextProbeAt: number | null;
  /** Backpressure: no attempt before this time. */
  pausedUntil: number | null;
}

export const healthyEndpoint: EndpointHealth = Object.freeze({
  failSince: null,
  lastSuccessAt: null,
  unreachableCount: 0,
  circuit: 'closed',
  nextProbeAt: null,
  pausedUntil: null,
});

/** What an attempt says about its endpoint, beyond success or failure (carried by its outcome). */
export interface AttemptSignal {
  /** An HTTP response arrived (whatever its status): the host is up. */
  responded: boolean;
  /** No response, and the error says the host is down (classification `unreachable`): counts towards opening the circuit. */
  unreachable: boolean;
  /** 410 Gone: disable the endpoint now. */
  gone: boolean;
  /** Backpressure asked for: no attempts at the endpoint before this time. */
  pauseUntil: number | null;
}

/** One attempt's signal as the health fold reads it. */
export interface EndpointSignal extends AttemptSignal {
  /** When the attempt started. */
  at: number;
  success: boolean;
}

/** An endpoint's whole policy state (`endpoint_state`), for operators and tests. */
export interface EndpointHealthRecord extends EndpointHealth {
  /** The throttle's theoretical arrival time (see `throttle`). */
  throttleTat: number | null;
}

export interface HealthPolicy {
  readonly disableAfterMs: number;
  readonly circuitThreshold: number;
  readonly probeIntervalMs: number;
}

export interface HealthChange {
  health: EndpointHealth;
  /** Disable the endpoint now (410, or failing for `disableAfterMs`). */
  disable: boolean;
  /** The circuit opened: hold the endpoint's due deliveries except one probe at `nextProbeAt`. */
  opened: boolean;
  /** The circuit closed: release the held deliveries. */
  closed: boolean;
  /** A pause began or grew: postpone the endpoint's due deliveries to `pausedUntil`. */
  paused: boolean;
}

/** Folds a batch of attempt signals (any order) into the endpoint's health. */
export function applySignals(
  previous: EndpointHealth,
  signals: readonly EndpointSignal[],
  policy: HealthPolicy,
): HealthChange {
  const health: EndpointHealth = { ...previous };
  const wasOpen = previous.circuit === 'open';
  let gone = false;
  let latest = Number.NEGATIVE_INFINITY;
  for (const signal of [...signals].sort((a, b) => a.at - b.at)) {
    latest = Math.max(latest, signal.at);
    if (signal.success) {
      health.failSince = null;
      health.lastSuccessAt = Math.max(health.lastSuccessAt ?? signal.at, signal.at);
    } else {
      health.failSince ??= signal.at;
    }
    if (signal.responded) {
      health.unreachableCount = 0;
      health.circuit = 'closed';
      health.nextProbeAt = null;
    } else if (signal.unreachable) {
      health.unreachableCount++;
      if (health.circuit === 'open' || health.unreachableCount >= policy.circuitThreshold) {
        health.circuit = 'open';
        // Attempts that were in flight when the circuit opened fail too; each pushes the probe out.
        health.nextProbeAt = Math.max(health.nextProbeAt ?? 0, signal.at + policy.probeIntervalMs);
      }
    }
    gone ||= signal.gone;
    if (signal.pauseUntil !== null) health.pausedUntil = Math.max(health.pausedUntil ?? 0, signal.pauseUntil);
  }
  const failingTooLong = health.failSince !== null && latest - health.failSince >= policy.disableAfterMs;
  return {
    health,
    disable: gone || failingTooLong,
    opened: !wasOpen && health.circuit === 'open',
    closed: wasOpen && health.circuit === 'closed',
    paused: health.pausedUntil !== null && health.pausedUntil > (previous.pausedUntil ?? 0),
  };
}

export interface BackpressurePolicy {
  /** Pause when the receiver gave no usable `Retry-After`. */
  readonly defaultPauseMs: number;
  /** Upper bound on a receiver's `Retry-After`. */
  readonly maxPauseMs: number;
}

/**
 * When a slow-down answer (HTTP 429/502/503/504) lets the endpoint be attempted again; `askedMs` is the
 * receiver's own delay (`Retry-After`), when it gave a usable one.
 */
export function pauseUntil(askedMs: number | undefined, now: number, policy: BackpressurePolicy): number {
  const wait =
    askedMs === undefined ? policy.defaultPauseMs : Math.min(policy.maxPauseMs, Math.max(1_000, askedMs));
  return now + wait;
}

export interface ThrottleDecision {
  /** How many of the tasks (in order) may go now. */
  admitted: number;
  /** The new theoretical arrival time to store. */
  tat: number;
  /** For each task not admitted, in order: the earliest time it would conform. */
  later: number[];
}

/**
 * Throttling as GCRA (the generic cell rate algorithm): `tat` is when the next message would be on
 * schedule at `rate` per second. A message conforms while `tat` is at most one second's burst ahead
 * of now, so over any window W at most `rate * W + burst` messages go, where burst is
 * max(1, floor(rate)). The state is one number per endpoint, updated under a row lock, which is what
 * makes the limit hold across every worker of a fleet. Tasks that do not conform are not given a slot
 * (nothing is reserved); they are spread one interval apart from the first free slot, so a backlog
 * becomes due at about the rate it can go instead of all at once.
 */
export function throttle(tat: number | null, now: number, rate: number, count: number): ThrottleDecision {
  const interval = 1000 / rate;
  const tolerance = (Math.max(1, Math.floor(rate)) - 1) * interval;
  let next = Math.max(tat ?? now, now);
  let admitted = 0;
  while (admitted < count && next - now <= tolerance) {
    next += interval;
    admitted++;
  }
  const later: number[] = [];
  for (let index = 0; index < count - admitted; index++)
    later.push(Math.ceil(next - tolerance + index * interval));
  return { admitted, tat: Math.ceil(next), later };
}
