import {
  applySignals,
  type EndpointHealth,
  type EndpointSignal,
  type HealthPolicy,
  throttle,
} from '../../domain/endpoint-policy.ts';
import type { CircuitChanged } from '../../observability/events.ts';
import {
  type AttemptOutcome,
  type ChangeEvent,
  type ClaimAdmission,
  type CompletionReport,
  type EndpointHealthRecord,
  MessageStatus,
} from '../contract.ts';
import type { SqlContext } from './context.ts';
import type { LeasedRow } from './delivery-transitions.ts';
import { first, prepared, type SqlExecutor } from './driver.ts';

/**
 * The endpoint policies' side of storage (docs/delivery-policies.md): `endpoint_state` rows, folded
 * from attempt outcomes inside the completion transaction, and consulted inside the claim transaction.
 * The pure decisions live in domain/endpoint-policy.ts; this file turns them into SQL.
 *
 * Blocking an endpoint moves its deliveries out of the due range in bulk (held, or postponed to a
 * later due time; the moves are delivery-transitions.ts), so the claim query never walks a blocked
 * endpoint's backlog again: a dead endpoint with 100,000 pending deliveries keeps exactly one of them
 * due, at its next probe. Bulk moves skip rows another transaction has locked: those are being
 * claimed, and the claim's own gate sorts them. That also keeps the lock order acyclic: claims lock
 * deliveries then endpoint_state; completions lock their own leased deliveries, then endpoint_state,
 * and never wait for anyone else's deliveries.
 */
export interface EndpointPolicies {
  readonly health: HealthPolicy;
}

interface StateRow {
  endpoint_id: string;
  fail_since: number | string | null;
  last_success_at: number | string | null;
  unreachable_count: number | string;
  circuit: 'closed' | 'open';
  next_probe_at: number | string | null;
  paused_until: number | string | null;
  throttle_tat: number | string | null;
}

const STATE_COLUMNS =
  'endpoint_id, fail_since, last_success_at, unreachable_count, circuit, next_probe_at, paused_until, throttle_tat';

const num = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toHealth(row: StateRow): EndpointHealthRecord {
  return {
    failSince: num(row.fail_since),
    lastSuccessAt: num(row.last_success_at),
    unreachableCount: Number(row.unreachable_count),
    circuit: row.circuit,
    nextProbeAt: num(row.next_probe_at),
    pausedUntil: num(row.paused_until),
    throttleTat: num(row.throttle_tat),
  };
}

/**
 * Creates the endpoint's state row if missing and locks it for this transaction (a no-op update on
 * conflict takes the row lock on PostgreSQL). Undefined when the endpoint no longer exists. A
 * single-writer backend's transactions are exclusive already, so there it only reads the row, and
 * creates it when missing: the no-op update rewrote the row in every completion transaction, 22 µs
 * against a read's 5 (docs/performance.md, profiling item 17).
 */
async function lockState(
  ctx: SqlContext,
  tx: SqlExecutor,
  endpointId: string,
): Promise<StateRow | undefined> {
  if (!ctx.driver.capabilities.multipleWriters) {
    const row = await first<StateRow>(
      tx,
      prepared(`SELECT ${STATE_COLUMNS} FROM endpoint_state WHERE endpoint_id = ?`),
      [endpointId],
    );
    if (row) return row;
  }
  return first<StateRow>(
    tx,
    prepared(`INSERT INTO endpoint_state (endpoint_id, app_id) SELECT id, app_id FROM endpoints WHERE id = ?
     ON CONFLICT (endpoint_id) DO UPDATE SET circuit = endpoint_state.circuit
     RETURNING ${STATE_COLUMNS}`),
    [endpointId],
  );
}

export async function readHealth(
  executor: SqlExecutor,
  endpointId: string,
): Promise<EndpointHealthRecord | undefined> {
  const row = await first<StateRow>(
    executor,
    `SELECT ${STATE_COLUMNS} FROM endpoint_state WHERE endpoint_id = ?`,
    [endpointId],
  );
  return row && toHealth(row);
}

async function writeHealth(tx: SqlExecutor, endpointId: string, health: EndpointHealth): Promise<void> {
  await tx.run(
    prepared(`UPDATE endpoint_state SET fail_since = ?, last_success_at = ?, unreachable_count = ?, circuit = ?,
       next_probe_at = ?, paused_until = ?
     WHERE endpoint_id = ?`),
    [
      health.failSince,
      health.lastSuccessAt,
      health.unreachableCount,
      health.circuit,
      health.nextProbeAt,
      health.pausedUntil,
      endpointId,
    ],
  );
}

export interface Folded {
  disabled: CompletionReport['disabled'];
  /** Held deliveries were released: dispatchers should wake (already announced to other processes). */
  madeDue: boolean;
  /** Circuits this batch opened or closed, published once it commits. */
  circuits: CircuitChanged[];
}

/** Folds a completion batch into its endpoints' state and applies what the policies decide. */
export async function foldOutcomes(
  ctx: SqlContext,
  tx: SqlExecutor,
  publish: (event: ChangeEvent) => void,
  outcomes: readonly AttemptOutcome[],
  policies: EndpointPolicies,
): Promise<Folded> {
  const { transitions } = ctx;
  const byEndpoint = new Map<string, EndpointSignal[]>();
  for (const outcome of outcomes) {
    if (!outcome.signal) continue;
    const signals = byEndpoint.get(outcome.attempt.endpointId) ?? [];
    signals.push({
      at: outcome.attempt.createdAt,
      success: outcome.attempt.status === MessageStatus.success,
      ...outcome.signal,
    });
    byEndpoint.set(outcome.attempt.endpointId, signals);
  }
  const folded: Folded = { disabled: [], madeDue: false, circuits: [] };
  // Endpoint-id order: concurrent completions lock state rows in the same order.
  for (const endpointId of [...byEndpoint.keys()].sort()) {
    const signals = byEndpoint.get(endpointId) ?? [];
    const row = await lockState(ctx, tx, endpointId);
    if (!row) continue; // deleted while the attempt was in flight
    const change = applySignals(toHealth(row), signals, policies.health);
    await writeHealth(tx, endpointId, change.health);
    if (change.opened || change.closed)
      folded.circuits.push({ endpointId, circuit: change.opened ? 'open' : 'closed' });
    const { health } = change;
    if (!(change.disable || change.opened || change.closed || change.paused || health.circuit === 'open'))
      continue;
    const endpoint = await first<{ app_id: string; disabled: number }>(
      tx,
      'SELECT app_id, disabled FROM endpoints WHERE id = ?',
      [endpointId],
    );
    if (!endpoint || Number(endpoint.disabled) === 1) continue; // held by the claim gate already
    const latest = Math.max(...signals.map((signal) => signal.at));
    if (change.disable) {
      await tx.run('UPDATE endpoints SET disabled = 1, updated_at = ? WHERE id = ?', [latest, endpointId]);
      publish({ kind: 'endpoint', appId: endpoint.app_id, id: endpointId });
      folded.disabled.push({ appId: endpoint.app_id, endpointId, failSince: health.failSince ?? latest });
      await transitions.holdEndpoint(tx, endpointId);
      continue;
    }
    if (change.closed) {
      const at = Math.max(latest, health.pausedUntil ?? 0);
      if ((await transitions.releaseEndpoint(tx, endpointId, at)) > 0) folded.madeDue = true;
    } else if (health.circuit === 'open') {
      if (change.opened) await transitions.holdEndpoint(tx, endpointId);
      const probeAt = health.nextProbeAt ?? latest + policies.health.probeIntervalMs;
      await transitions.ensureProbe(tx, endpointId, probeAt);
      continue;
    }
    if (change.paused && health.pausedUntil !== null)
      await transitions.postponeEndpoint(tx, endpointId, health.pausedUntil);
  }
  if (folded.madeDue) await ctx.announceWork(tx);
  return folded;
}

/** Each disabled endpoint is reported to the first submitter whose outcomes touched it, so it is emitted once. */
export function reportPerItem(
  items: readonly (readonly AttemptOutcome[])[],
  disabled: CompletionReport['disabled'],
): CompletionReport[] {
  const left = new Map(disabled.map((entry) => [entry.endpointId, entry]));
  return items.map((item) => {
    const mine: CompletionReport['disabled'] = [];
    for (const outcome of item) {
      const entry = left.get(outcome.attempt.endpointId);
      if (!entry) continue;
      mine.push(entry);
      left.delete(outcome.attempt.endpointId);
    }
    return { disabled: mine };
  });
}

interface GateRow {
  id: string;
  disabled: number;
  rate: number | string | null;
  circuit: 'closed' | 'open' | null;
  next_probe_at: number | string | null;
  paused_until: number | string | null;
}

/**
 * Sorts freshly leased rows by their endpoint's policies, in the claim's transaction: held (disabled;
 * open circuit and not the probe), postponed (paused; throttled; refused by the dispatcher's `admit`),
 * or returned to be attempted. Returns the last kind.
 */
export async function gateClaim(
  ctx: SqlContext,
  tx: SqlExecutor,
  rows: readonly LeasedRow[],
  now: number,
  policies: EndpointPolicies,
  admit: ClaimAdmission | undefined,
  lease: { owner: string; until: number },
): Promise<LeasedRow[]> {
  const endpointIds = [...new Set(rows.map((row) => row.endpoint_id))].sort();
  const gates = await tx.query<GateRow>(
    prepared(`SELECT e.id, e.disabled, COALESCE(e.throttle_rate, a.throttle_rate) AS rate, s.circuit, s.next_probe_at,
            s.paused_until
     FROM endpoints e JOIN applications a ON a.id = e.app_id
     LEFT JOIN endpoint_state s ON s.endpoint_id = e.id
     WHERE ${ctx.driver.dialect.anyOf('e.id')}`),
    [ctx.driver.dialect.anyOfParam(endpointIds)],
  );
  const gateOf = new Map(gates.map((gate) => [gate.id, gate]));
  const groups = new Map<string, LeasedRow[]>();
  // Oldest delivery first within an endpoint: ids grow with time.
  for (const row of [...rows].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const group = groups.get(row.endpoint_id) ?? [];
    group.push(row);
    groups.set(row.endpoint_id, group);
  }

  const go: LeasedRow[] = [];
  const held: LeasedRow[] = [];
  const parked: LeasedRow[] = [];
  const probesFor = new Map<string, number>();
  const later = new Map<number, LeasedRow[]>();
  const postpone = (row: LeasedRow, until: number) => {
    const rows = later.get(until) ?? [];
    rows.push(row);
    later.set(until, rows);
  };

  for (const endpointId of endpointIds) {
    const group = groups.get(endpointId) ?? [];
    const gate = gateOf.get(endpointId);
    if (!gate) continue; // the endpoint is gone; its deliveries went with it
    if (Number(gate.disabled) === 1) {
      held.push(...group);
      continue;
    }
    if (gate.circuit === 'open') {
      const probeAt = num(gate.next_probe_at);
      let rest = group;
      if (probeAt === null || probeAt <= now) {
        // Whoever moves next_probe_at first (any worker of the fleet) makes the probe.
        const next = now + policies.health.probeIntervalMs;
        const won = await tx.run(
          `UPDATE endpoint_state SET next_probe_at = ?
           WHERE endpoint_id = ? AND circuit = 'open' AND (next_probe_at IS NULL OR next_probe_at <= ?)`,
          [next, endpointId, now],
        );
        if (won > 0 && group[0]) {
          go.push(group[0]);
          rest = group.slice(1);
        }
        probesFor.set(endpointId, won > 0 ? next : (probeAt ?? next));
      } else {
        probesFor.set(endpointId, probeAt);
      }
      held.push(...rest);
      continue;
    }
    const pausedUntil = num(gate.paused_until);
    if (pausedUntil !== null && pausedUntil > now) {
      for (const row of group) postpone(row, pausedUntil);
      continue;
    }
    let admitted: LeasedRow[] = [];
    for (const row of group) {
      const until = admit?.({ deliveryId: row.id, endpointId });
      if (until === undefined) admitted.push(row);
      else if (until === 'park') parked.push(row);
      else postpone(row, until);
    }
    const rate = num(gate.rate);
    if (rate !== null && rate > 0 && admitted.length > 0) {
      const state = await lockState(ctx, tx, endpointId);
      const decision = throttle(num(state?.throttle_tat ?? null), now, rate, admitted.length);
      await tx.run('UPDATE endpoint_state SET throttle_tat = ? WHERE endpoint_id = ?', [
        decision.tat,
        endpointId,
      ]);
      admitted.slice(decision.admitted).forEach((row, index) => {
        postpone(row, decision.later[index] ?? now);
      });
      admitted = admitted.slice(0, decision.admitted);
    }
    go.push(...admitted);
  }

  await ctx.transitions.holdLeased(tx, held);
  await ctx.transitions.parkLeased(tx, parked, lease.owner, lease.until);
  for (const [until, rows] of later) await ctx.transitions.postponeLeased(tx, rows, until);
  for (const [endpointId, probeAt] of probesFor) await ctx.transitions.ensureProbe(tx, endpointId, probeAt);
  return go;
}

/**
 * Inside `endpoints.update`, before the endpoint row changes: an endpoint re-enabled by its owner
 * starts afresh (no failure history, circuit closed, no pause) and its held deliveries become due
 * now; one disabled by its owner has its due deliveries held. Returns whether work became due.
 */
export async function onDisabledChange(
  ctx: SqlContext,
  tx: SqlExecutor,
  endpointId: string,
  disabled: boolean,
  now: number,
): Promise<boolean> {
  if (disabled) {
    await ctx.transitions.holdEndpoint(tx, endpointId);
    return false;
  }
  // Keeps the throttle's schedule: forgetting it would let a re-enabled endpoint burst past its rate.
  await tx.run(
    `UPDATE endpoint_state SET fail_since = NULL, unreachable_count = 0, circuit = 'closed', next_probe_at = NULL,
       paused_until = NULL
     WHERE endpoint_id = ?`,
    [endpointId],
  );
  return (await ctx.transitions.releaseEndpoint(tx, endpointId, now)) > 0;
}
