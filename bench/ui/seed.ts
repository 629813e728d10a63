/**
 * The dashboard bench's data (bench/ui/render.ts): a month of traffic written straight into Hookyard's
 * SQLite tables with multi-row INSERTs in large transactions (the API would take hours for a million
 * messages; this takes 1.5 to 4 minutes here). The schema must exist (Hookyard's migrations make it); the
 * rows are what Hookyard itself would have written, so every page reads them through its usual queries.
 *
 * What is in it, by design rather than at random (a seeded PRNG makes every run hold the same data):
 * - 8 applications (25 endpoints), the first (`bench-ui`) with 40 % of the traffic and 4 endpoints,
 *   the others 2–4; the second endpoint of each takes only the invoice event types, so a message
 *   fans out to 1–4 endpoints, about 3 on average;
 * - messages spread evenly over the 30 days up to now, so the overview's last hour and day have data;
 *   six event types of unequal frequency, 1 in 7 on channel `eu`, 1 in 11 on `us`; eventIds `evt-<n>`;
 * - deliveries of a healthy endpoint: 97 % succeed at once, 2 % after one or two retries, 0.3 % fail
 *   after five attempts; a flaky endpoint (`bench-ui`'s third) fails 10 % for good and 15 % before
 *   succeeding, and has failed since two hours ago (its newest deliveries are queued retries);
 *   one endpoint is disabled and one has its circuit open since an hour ago: their deliveries since
 *   then are held;
 * - attempts for every try (retries 1 min, 5 min, 30 min and 2 h apart), response 200 or
 *   500/timeout, and the stats rollup (endpoint_stats) added up from exactly those attempts.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { idPrefixes, idTime } from '../../src/domain/ids.ts';
import { LATENCY_BUCKETS, latencyBucket } from '../../src/domain/latency-histogram.ts';

/** Bump when the data changes: a reused database of another version is seeded again. */
export const SEED_VERSION = 1;
export const SEED_DAYS = 30;
export const EVENT_TYPES = [
  ['invoice.paid', 30],
  ['invoice.created', 25],
  ['user.created', 20],
  ['order.shipped', 15],
  ['user.deleted', 7],
  ['subscription.canceled', 3],
] as const;
const INVOICE_TYPES = ['invoice.paid', 'invoice.created'];
const APPLICATIONS = 8;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RETRY_DELAYS = [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR];
const BATCH_MESSAGES = 20_000;
const ROWS_PER_STATEMENT = 200;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

type Health = 'healthy' | 'flaky' | 'disabled' | 'circuit';

export interface SeedEndpoint {
  readonly id: string;
  readonly appId: string;
  readonly url: string;
  readonly invoicesOnly: boolean;
  readonly health: Health;
}

export interface SeedApplication {
  readonly id: string;
  readonly uid: string;
  readonly endpoints: SeedEndpoint[];
}

export interface SeedSummary {
  readonly messages: number;
  readonly deliveries: number;
  readonly attempts: number;
  readonly byStatus: Record<number, number>;
  readonly applications: SeedApplication[];
  /** A message of `bench-ui` with a retried delivery, for the message and attempt pages. */
  readonly sample: { appId: string; msgId: string; attemptId: string; endpointId: string };
  readonly seconds: number;
}

/** mulberry32: deterministic, so two seeds of the same size hold the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A Hookyard id for any time, in any order: `newId` keeps one process's ids increasing, so it would
 * stamp a retry generated after a later message with that message's time. Same layout (6 bytes of
 * milliseconds, 14 of randomness, 27 base62 digits), checked against `idTime` by the seed's test.
 */
function idAt(kind: keyof typeof idPrefixes, ms: number, random: () => number): string {
  let value = BigInt(Math.floor(ms));
  for (let i = 0; i < 7; i++) value = (value << 16n) | BigInt(Math.floor(random() * 65_536));
  let out = '';
  for (let i = 0; i < 27; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return idPrefixes[kind] + out;
}

/** Prepared multi-row INSERTs: one statement per `ROWS_PER_STATEMENT` rows, the rest one by one. */
function inserter(db: DatabaseSync, head: string, width: number) {
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  const many = db.prepare(
    `${head} VALUES ${Array.from({ length: ROWS_PER_STATEMENT }, () => row).join(', ')}`,
  );
  const one = db.prepare(`${head} VALUES ${row}`);
  let pending: SQLInputValue[] = [];
  return {
    add(values: SQLInputValue[]) {
      for (const value of values) pending.push(value);
      if (pending.length === width * ROWS_PER_STATEMENT) {
        many.run(...pending);
        pending = [];
      }
    },
    flush() {
      for (let at = 0; at < pending.length; at += width) one.run(...pending.slice(at, at + width));
      pending = [];
    },
  };
}

interface Rollup {
  values: number[]; // succeeded, failed, duration_ms_sum, l0..l15
  lastAttemptAt: number;
  appId: string;
}

function rollupStatement(db: DatabaseSync): StatementSync {
  const buckets = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `l${i}`);
  const valueColumns = ['succeeded', 'failed', 'duration_ms_sum', ...buckets];
  return db.prepare(
    `INSERT INTO endpoint_stats (endpoint_id, app_id, minute, last_attempt_at, ${valueColumns.join(', ')})
     VALUES (${Array.from({ length: 4 + valueColumns.length }, () => '?').join(', ')})
     ON CONFLICT (endpoint_id, minute) DO UPDATE SET
       ${valueColumns.map((name) => `${name} = endpoint_stats.${name} + excluded.${name}`).join(', ')},
       last_attempt_at = MAX(endpoint_stats.last_attempt_at, excluded.last_attempt_at)`,
  );
}

/** Writes the data set into the Hookyard SQLite database at `path` (schema made, tables empty). */
export function seedSqlite(path: string, messages: number, now: number = Date.now()): SeedSummary {
  const started = performance.now();
  const random = prng(0x5eed);
  const db = new DatabaseSync(path);
  const byStatus: Record<number, number> = { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 };
  let deliveries = 0;
  let attempts = 0;
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec('PRAGMA cache_size = -262144');
    const start = now - SEED_DAYS * 24 * HOUR;
    const created = start - HOUR;

    db.exec('BEGIN');
    const applications: SeedApplication[] = [];
    const insertApp = db.prepare(
      `INSERT INTO applications (id, uid, name, throttle_rate, metadata, created_at, updated_at)
       VALUES (?, ?, ?, NULL, '{}', ?, ?)`,
    );
    const insertEndpoint = db.prepare(
      `INSERT INTO endpoints (id, app_id, uid, url, description, disabled, event_types, channels, throttle_rate,
                              metadata, headers, secrets, created_at, updated_at, filter, kind, config)
       VALUES (?, ?, NULL, ?, ?, ?, ?, NULL, NULL, '{}', '{}', ?, ?, ?, NULL, 'http', NULL)`,
    );
    for (let a = 0; a < APPLICATIONS; a++) {
      const uid = a === 0 ? 'bench-ui' : `bench-ui-${a + 1}`;
      const app: SeedApplication = { id: idAt('application', created + a, random), uid, endpoints: [] };
      insertApp.run(app.id, uid, a === 0 ? 'Bench UI' : `Bench UI ${a + 1}`, created, created);
      const count = 4 - (a % 3);
      for (let e = 0; e < count; e++) {
        const health: Health =
          a === 0 && e === 2
            ? 'flaky'
            : a === 2 && e === 1
              ? 'disabled'
              : a === 4 && e === 0
                ? 'circuit'
                : 'healthy';
        const endpoint: SeedEndpoint = {
          id: idAt('endpoint', created + a * 10 + e, random),
          appId: app.id,
          // Nothing listens there: a stray dispatcher would fail fast rather than reach anything.
          url: `http://127.0.0.1:9/${uid}/${e}`,
          invoicesOnly: e === 1,
          health,
        };
        app.endpoints.push(endpoint);
        insertEndpoint.run(
          endpoint.id,
          app.id,
          endpoint.url,
          `${health} endpoint ${e}`,
          health === 'disabled' ? 1 : 0,
          endpoint.invoicesOnly ? JSON.stringify(INVOICE_TYPES) : null,
          JSON.stringify([{ key: SECRET, expiresAt: null }]),
          created,
          health === 'disabled' ? now - HOUR : created,
        );
      }
      applications.push(app);
    }
    // The endpoints' policy state: the flaky one failing since two hours ago, the circuit open since one.
    const state = db.prepare(
      `INSERT INTO endpoint_state (endpoint_id, app_id, fail_since, last_success_at, unreachable_count, circuit,
                                   next_probe_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const app of applications)
      for (const endpoint of app.endpoints) {
        const key = [endpoint.id, app.id] as const;
        if (endpoint.health === 'flaky') state.run(...key, now - 2 * HOUR, now - 2 * HOUR, 0, 'closed', null);
        else if (endpoint.health === 'circuit')
          state.run(...key, now - HOUR, now - HOUR - MINUTE, 12, 'open', now + MINUTE);
        else if (endpoint.health === 'disabled')
          state.run(...key, now - 3 * HOUR, now - 3 * HOUR, 40, 'closed', null);
        else state.run(...key, null, now - MINUTE, 0, 'closed', null);
      }
    db.exec('COMMIT');

    const messageRows = inserter(
      db,
      `INSERT INTO messages (id, app_id, uid, event_type, channels, payload, payload_expires_at, created_at,
                             tags, deliver_at, trace_context)`,
      11,
    );
    const deliveryRows = inserter(
      db,
      `INSERT INTO deliveries (id, app_id, msg_id, endpoint_id, status, attempts, next_attempt_at,
                               trigger_type, lease_owner, created_at, updated_at, fail_streak)`,
      12,
    );
    const attemptRows = inserter(
      db,
      `INSERT INTO attempts (id, app_id, msg_id, endpoint_id, delivery_id, url, status,
                             response_status_code, response, response_duration_ms, trigger_type, created_at)`,
      12,
    );
    const rollupRow = rollupStatement(db);
    const rollups = new Map<string, Rollup>();
    const flushRollups = () => {
      for (const [key, row] of rollups) {
        const [endpointId, minute] = key.split('|') as [string, string];
        rollupRow.run(endpointId, row.appId, Number(minute), row.lastAttemptAt, ...row.values);
      }
      rollups.clear();
    };

    const typeTotal = EVENT_TYPES.reduce((sum, [, weight]) => sum + weight, 0);
    const pickType = (r: number): string => {
      let at = r * typeTotal;
      for (const [name, weight] of EVENT_TYPES) {
        if (at < weight) return name;
        at -= weight;
      }
      return EVENT_TYPES[0][0];
    };
    const stepMs = (now - start) / Math.max(1, messages);
    let sample: SeedSummary['sample'] | undefined;

    const writeAttempt = (
      endpoint: SeedEndpoint,
      msgId: string,
      deliveryId: string,
      at: number,
      ok: boolean,
    ): string => {
      const duration = ok
        ? 15 + Math.floor(random() * 120)
        : random() < 0.3
          ? 15_000
          : 40 + Math.floor(random() * 300);
      const id = idAt('attempt', at, random);
      attemptRows.add([
        id,
        endpoint.appId,
        msgId,
        endpoint.id,
        deliveryId,
        endpoint.url,
        ok ? 0 : 2,
        ok ? 200 : duration === 15_000 ? 0 : 500,
        ok ? '{"received":true}' : duration === 15_000 ? '' : '{"error":"internal"}',
        duration,
        0,
        at,
      ]);
      attempts++;
      // The rollup as rollUpAttempts adds it: by the minute the attempt finished.
      const finished = at + duration;
      const key = `${endpoint.id}|${Math.floor(finished / MINUTE) * MINUTE}`;
      let row = rollups.get(key);
      if (!row) {
        row = {
          values: new Array<number>(3 + LATENCY_BUCKETS).fill(0),
          lastAttemptAt: finished,
          appId: endpoint.appId,
        };
        rollups.set(key, row);
      }
      row.lastAttemptAt = Math.max(row.lastAttemptAt, finished);
      row.values[2] = (row.values[2] as number) + duration;
      if (ok) {
        row.values[0] = (row.values[0] as number) + 1;
        const bucket = 3 + latencyBucket(Math.max(0, finished - (idTime(msgId) ?? at)));
        row.values[bucket] = (row.values[bucket] as number) + 1;
      } else row.values[1] = (row.values[1] as number) + 1;
      return id;
    };

    const payloadTail = 'x'.repeat(300);
    for (let from = 0; from < messages; from += BATCH_MESSAGES) {
      db.exec('BEGIN');
      for (let i = from; i < Math.min(messages, from + BATCH_MESSAGES); i++) {
        const at = Math.floor(start + i * stepMs);
        const r = random();
        const app = applications[
          r < 0.4 ? 0 : 1 + Math.floor(((r - 0.4) / 0.6) * (APPLICATIONS - 1))
        ] as SeedApplication;
        const eventType = pickType(random());
        const channels = i % 7 === 0 ? '["eu"]' : i % 11 === 0 ? '["us"]' : null;
        const msgId = idAt('message', at, random);
        messageRows.add([
          msgId,
          app.id,
          `evt-${i}`,
          eventType,
          channels,
          `{"type":"${eventType}","data":{"id":"obj_${i}","amount":${(i * 37) % 100_000},"currency":"EUR","customer":"cus_${i % 5_000}","note":"${payloadTail}"}}`,
          at + 90 * 24 * HOUR,
          at,
          null, // tags, deliver_at, trace_context: none, as most messages
          null,
          null,
        ]);
        for (const endpoint of app.endpoints) {
          if (endpoint.invoicesOnly && !INVOICE_TYPES.includes(eventType)) continue;
          const deliveryId = idAt('delivery', at, random);
          const outcome = random();
          const failProbability = endpoint.health === 'flaky' ? 0.1 : 0.003;
          const retryProbability = endpoint.health === 'flaky' ? 0.15 : 0.02;
          const blocked = endpoint.health === 'disabled' || endpoint.health === 'circuit';
          // How many tries fail, and whether one succeeds after them: the plan, cut short by `now`.
          let failures: number;
          let succeeds: boolean;
          if (blocked && at >= now - HOUR) {
            failures = 1; // then held: the endpoint was disabled (or its circuit opened) since
            succeeds = false;
          } else if (endpoint.health === 'flaky' && at >= now - 2 * HOUR) {
            failures = 5; // failing since two hours ago: retries still to come
            succeeds = false;
          } else if (outcome < failProbability) {
            failures = 5;
            succeeds = false;
          } else if (outcome < failProbability + retryProbability) {
            failures = 1 + Math.floor(random() * 2);
            succeeds = true;
          } else {
            failures = 0;
            succeeds = true;
          }
          let status = 2;
          let tries = 0;
          let streak = 0;
          let nextAt: number | null = null;
          let lastTry = at + 5;
          const held = blocked && at >= now - HOUR;
          for (let t = 0; t < failures; t++) {
            writeAttempt(endpoint, msgId, deliveryId, lastTry, false);
            tries++;
            streak++;
            if (held) {
              status = 3; // held: no due time until the endpoint is enabled (or its circuit closes)
              break;
            }
            if (t === failures - 1 && !succeeds) break;
            const next = lastTry + (RETRY_DELAYS[t] as number);
            if (next > (blocked ? now - HOUR : now)) {
              status = 3; // a retry is scheduled (held, on a blocked endpoint)
              nextAt = blocked ? null : next;
              break;
            }
            lastTry = next;
          }
          if (succeeds && status === 2) {
            const attemptId = writeAttempt(endpoint, msgId, deliveryId, lastTry, true);
            tries++;
            streak = 0;
            status = 0;
            if (failures > 0 && app === applications[0] && sample === undefined && i > messages / 2)
              sample = { appId: app.id, msgId, attemptId, endpointId: endpoint.id };
          }
          deliveryRows.add([
            deliveryId,
            app.id,
            msgId,
            endpoint.id,
            status,
            tries,
            nextAt,
            0,
            null,
            at,
            Math.min(lastTry, now),
            streak,
          ]);
          deliveries++;
          byStatus[status] = (byStatus[status] ?? 0) + 1;
        }
      }
      messageRows.flush();
      deliveryRows.flush();
      attemptRows.flush();
      flushRollups();
      db.exec('COMMIT');
    }
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    if (!sample) throw new Error(`too few messages (${messages}) for a retried delivery of bench-ui`);
    return {
      messages,
      deliveries,
      attempts,
      byStatus,
      applications,
      sample,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    db.close();
  }
}
