import { idBoundary, idPrefixes } from '../../domain/ids.ts';
import {
  type EndpointRecord,
  type EndpointStatsCounts,
  type EndpointStore,
  MessageStatus,
  statusText,
  type TimeRange,
} from '../contract.ts';
import { SEALED_HEAD_LENGTH, SEALED_PREFIX, sealedKeyId } from '../sealing.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { onDisabledChange, readHealth } from './endpoint-state.ts';
import { add, addTimeRange, conditions, keysetPage } from './paging.ts';
import {
  columns,
  type EndpointRow,
  toEndpoint as endpointOf,
  endpointValues,
  jsonOrNull,
  SEALED_ENDPOINT_COLUMNS,
} from './rows.ts';

const COLUMNS = columns.endpoints.join(', ');
/** Rows `reseal` rewrites per transaction. */
const RESEAL_BATCH = 200;
const MINUTE_MS = 60_000;
/**
 * The longest response time an attempt can record, for the stats' cut minutes: the largest
 * HOOKYARD_DELIVERY_TIMEOUT (5m), whose timer aborts the request, and a minute for a late timer.
 * The walk of a cut minute reads the endpoint's attempts of this long before it.
 */
const MAX_ATTEMPT_MS = 6 * MINUTE_MS;
/**
 * How far past its finish an attempt's id may lie: the id is made after the response, from a clock
 * that never runs backwards (`newId`), so its time is its start or a little later.
 */
const ATTEMPT_ID_LAG_MS = MINUTE_MS;

export function createEndpointStore(ctx: SqlContext): EndpointStore {
  const { driver, sealer } = ctx;
  const toEndpoint = (row: EndpointRow) => endpointOf(row, sealer);
  const store: EndpointStore = {
    async create(record) {
      await ctx.mutate(async (tx, publish) => {
        await tx.run(
          `INSERT INTO endpoints (${COLUMNS}) VALUES (${placeholders(columns.endpoints.length)})`,
          endpointValues(record, sealer),
        );
        publish({ kind: 'endpoint', appId: record.appId, id: record.id });
      });
      return record;
    },

    async get(appId, idOrUid) {
      const row = await first<EndpointRow>(
        driver,
        `SELECT ${COLUMNS} FROM endpoints WHERE app_id = ? AND (id = ? OR uid = ?) ORDER BY id = ? DESC LIMIT 1`,
        [appId, idOrUid, idOrUid, idOrUid],
      );
      return row && toEndpoint(row);
    },

    list(appId, page, kind = 'http') {
      const filter = conditions();
      add(filter, 'app_id = ?', appId);
      if (kind === 'http') add(filter, "kind = 'http'");
      else add(filter, "kind <> 'http'");
      return keysetPage<EndpointRow, EndpointRecord>(driver, {
        select: `SELECT ${COLUMNS} FROM endpoints`,
        filter,
        key: 'id',
        page,
        map: toEndpoint,
      });
    },

    async listAll(appId) {
      const rows = await driver.query<EndpointRow>(
        `SELECT ${COLUMNS} FROM endpoints WHERE app_id = ? ORDER BY id`,
        [appId],
      );
      return rows.map(toEndpoint);
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const unique = [...new Set(ids)];
      const rows = await driver.query<EndpointRow>(
        `SELECT ${COLUMNS} FROM endpoints WHERE id IN (${placeholders(unique.length)}) ORDER BY id`,
        unique,
      );
      return rows.map(toEndpoint);
    },

    async update(record) {
      let madeDue = false;
      const changed = await ctx.mutate(async (tx, publish) => {
        // The state row is locked before the endpoint row, the order completions take them in.
        const before = await first<{ disabled: number }>(
          tx,
          'SELECT disabled FROM endpoints WHERE id = ? AND app_id = ?',
          [record.id, record.appId],
        );
        if (before && (Number(before.disabled) === 1) !== record.disabled) {
          madeDue = await onDisabledChange(ctx, tx, record.id, record.disabled, Date.now());
          if (madeDue) await ctx.announceWork(tx);
        }
        const count = await tx.run(
          `UPDATE endpoints SET uid = ?, url = ?, description = ?, disabled = ?, event_types = ?, channels = ?,
             throttle_rate = ?, metadata = ?, headers = ?, secrets = ?, updated_at = ?, filter = ?, kind = ?, config = ?,
             egress = ?
           WHERE id = ? AND app_id = ?`,
          [
            record.uid,
            record.url,
            record.description,
            record.disabled ? 1 : 0,
            jsonOrNull(record.eventTypes),
            jsonOrNull(record.channels),
            record.throttleRate,
            JSON.stringify(record.metadata),
            JSON.stringify(record.headers),
            sealer.seal(JSON.stringify(record.secrets), 'secrets'),
            record.updatedAt,
            jsonOrNull(record.filter ?? null),
            record.destination?.type ?? 'http',
            record.destination ? sealer.seal(JSON.stringify(record.destination.config), 'config') : null,
            record.egress ? sealer.seal(JSON.stringify(record.egress), 'egress') : null,
            record.id,
            record.appId,
          ],
        );
        if (count > 0) publish({ kind: 'endpoint', appId: record.appId, id: record.id });
        return count > 0;
      });
      if (madeDue) ctx.wakeLocal();
      return changed ? store.get(record.appId, record.id) : undefined;
    },

    health: (endpointId) => readHealth(driver, endpointId),

    delete(appId, id) {
      return ctx.mutate(async (tx, publish) => {
        const count = await tx.run('DELETE FROM endpoints WHERE id = ? AND app_id = ?', [id, appId]);
        if (count > 0) publish({ kind: 'endpoint', appId, id });
        return count > 0;
      });
    },

    async reseal() {
      let rewritten = 0;
      let after = '';
      for (;;) {
        const rows = await driver.query<
          Pick<EndpointRow, 'id' | 'app_id' | (typeof SEALED_ENDPOINT_COLUMNS)[number]>
        >(
          `SELECT id, app_id, ${SEALED_ENDPOINT_COLUMNS.join(', ')} FROM endpoints WHERE id > ? ORDER BY id LIMIT ?`,
          [after, RESEAL_BATCH],
        );
        const last = rows.at(-1);
        if (!last) return rewritten;
        after = last.id;
        rewritten += await ctx.mutate(async (tx, publish) => {
          let changed = 0;
          for (const row of rows) {
            const next = SEALED_ENDPOINT_COLUMNS.map((column) => {
              const stored = row[column];
              return stored == null ? null : sealer.seal(sealer.open(stored, column), column);
            });
            // Compared with what was read, so a row updated meanwhile (already written with the
            // current key by whoever updated it) keeps its newer value.
            const count = await tx.run(
              `UPDATE endpoints SET ${SEALED_ENDPOINT_COLUMNS.map((column) => `${column} = ?`).join(', ')}
               WHERE id = ? AND ${SEALED_ENDPOINT_COLUMNS.map((column) => `COALESCE(${column}, '') = ?`).join(' AND ')}`,
              [...next, row.id, ...SEALED_ENDPOINT_COLUMNS.map((column) => row[column] ?? '')],
            );
            if (count > 0) {
              changed++;
              publish({ kind: 'endpoint', appId: row.app_id, id: row.id });
            }
          }
          return changed;
        });
      }
    },

    async unknownSealingKeys() {
      // Only each sealed value's head is read: the key id, not the (possibly large) value.
      const heads = await driver.query<{ head: string }>(
        SEALED_ENDPOINT_COLUMNS.map(
          (column) =>
            `SELECT DISTINCT substr(${column}, 1, ${SEALED_HEAD_LENGTH}) AS head FROM endpoints WHERE ${column} LIKE '${SEALED_PREFIX}%'`,
        ).join(' UNION '),
        [],
      );
      const known = new Set(sealer.keyIds);
      const unknown = new Set<string>();
      for (const { head } of heads) {
        const id = sealedKeyId(head);
        if (id !== undefined && !known.has(id)) unknown.add(id);
      }
      return [...unknown].sort();
    },

    async stats(endpointId, range) {
      // Svix's route counts attempts; Hookyard's counts deliveries. The four unsettled statuses are
      // the endpoint's deliveries created in the range now in that status, counted exactly along
      // deliveries_endpoint_unsettled (migration 0013; its predicate is verbatim the one here so both
      // planners use it), which holds only deliveries not succeeded and so stays small.
      // `success` is the successful attempts that finished in the range: what the stats rollup
      // (endpoint_stats, migration 0007) counts, written in the completion transaction, so it costs a
      // sum of at most one row per minute of the range (the route allows 28 days: 40,325 rows),
      // whatever the history holds. Counting succeeded deliveries by their id instead (the total along
      // deliveries_endpoint minus the rest) walked every delivery of the range: 94 ms at 1M messages,
      // growing with them. The two differ where a delivery was created before the range and succeeded
      // in it (counted now), was created in it and succeeded after it (not counted now), or succeeded
      // again after a resend or replay (counted each time, as Svix counts attempts); and success goes
      // back as far as HOOKYARD_STATS_RETENTION keeps the rollup, whatever message retention deleted
      // (docs/api.md, "Endpoint stats"). Not chosen: a per-endpoint counter of succeeded deliveries
      // would keep the old definition, but it is one more upsert on a row every completion of the
      // endpoint contends for on PostgreSQL, and resend, replay and retention would each have to
      // decrement it; Svix's 28-day limit (the route applies it) bounds the range, not its deliveries.
      const filter = conditions();
      add(filter, 'endpoint_id = ?', endpointId);
      addTimeRange(filter, 'id', 'delivery', range);
      const [rows, success] = await Promise.all([
        driver.query<{ status: number; n: number | string }>(
          `SELECT status, COUNT(*) AS n FROM deliveries WHERE ${filter.where.join(' AND ')}
             AND status <> ${MessageStatus.success} GROUP BY status`,
          filter.params,
        ),
        successesFinished(endpointId, range),
      ]);
      const counts: EndpointStatsCounts = { success, pending: 0, sending: 0, fail: 0, canceled: 0 };
      for (const row of rows) {
        const name = statusText[Number(row.status)];
        if (name && name !== 'success') counts[name] = Number(row.n);
      }
      return counts;
    },
  };

  /**
   * Successful attempts of the endpoint that finished in the range (`after` and `before` exclusive),
   * finish time being the attempt's start plus its response time, as the rollup bins them. The whole
   * minutes come from the rollup; the parts of minutes the range cuts at either end from the attempts
   * themselves, which the rollup counted in the same transaction, so the sum is exact to the
   * millisecond. Batch attempts of ordered endpoints (their delivery id names no delivery) are not
   * in the rollup and are left out here too.
   */
  async function successesFinished(endpointId: string, range: TimeRange): Promise<number> {
    const from = range.after === undefined ? undefined : range.after + 1;
    const to = range.before;
    if (from !== undefined && to !== undefined && to <= from) return 0;
    const wholeFrom = from === undefined ? undefined : Math.ceil(from / MINUTE_MS) * MINUTE_MS;
    const wholeTo = to === undefined ? undefined : Math.floor(to / MINUTE_MS) * MINUTE_MS;
    if (wholeFrom !== undefined && wholeTo !== undefined && wholeTo <= wholeFrom)
      return countFinished(endpointId, from as number, to as number);
    const minutes = conditions();
    add(minutes, 'endpoint_id = ?', endpointId);
    if (wholeFrom !== undefined) add(minutes, 'minute >= ?', wholeFrom);
    if (wholeTo !== undefined) add(minutes, 'minute < ?', wholeTo);
    const [whole, head, tail] = await Promise.all([
      first<{ n: number | string | null }>(
        driver,
        `SELECT SUM(succeeded) AS n FROM endpoint_stats WHERE ${minutes.where.join(' AND ')}`,
        minutes.params,
      ),
      from !== undefined && wholeFrom !== undefined && from < wholeFrom
        ? countFinished(endpointId, from, wholeFrom)
        : 0,
      to !== undefined && wholeTo !== undefined && wholeTo < to ? countFinished(endpointId, wholeTo, to) : 0,
    ]);
    return Number(whole?.n ?? 0) + head + tail;
  }

  /** Successful attempts of the endpoint that finished in [from, to), both within a minute or two. */
  async function countFinished(endpointId: string, from: number, to: number): Promise<number> {
    // attempts_endpoint (endpoint_id, id) bounds the walk: an attempt that finished in the range
    // started at most MAX_ATTEMPT_MS before it, and its id was made by ATTEMPT_ID_LAG_MS after it.
    const row = await first<{ n: number | string }>(
      driver,
      `SELECT COUNT(*) AS n FROM attempts
       WHERE endpoint_id = ? AND id >= ? AND id < ? AND status = ${MessageStatus.success}
         AND created_at + response_duration_ms >= ? AND created_at + response_duration_ms < ?
         AND substr(delivery_id, 1, ${idPrefixes.delivery.length}) = '${idPrefixes.delivery}'`,
      [
        endpointId,
        idBoundary('attempt', from - MAX_ATTEMPT_MS),
        idBoundary('attempt', to + ATTEMPT_ID_LAG_MS),
        from,
        to,
      ],
    );
    return Number(row?.n ?? 0);
  }

  return store;
}
