import {
  type EndpointRecord,
  type EndpointStatsCounts,
  type EndpointStore,
  MessageStatus,
  statusText,
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
      const filter = conditions();
      add(filter, 'endpoint_id = ?', endpointId);
      addTimeRange(filter, 'id', 'delivery', range);
      const where = filter.where.join(' AND ');
      // Neither count reads a delivery row (migration 0013): the total walks deliveries_endpoint, the
      // rest deliveries_endpoint_unsettled, whose predicate is verbatim the one here so both planners
      // use it. The total is still a walk of the range's index entries (the endpoint's volume).
      const [total, rows] = await Promise.all([
        first<{ n: number | string }>(
          driver,
          `SELECT COUNT(*) AS n FROM deliveries WHERE ${where}`,
          filter.params,
        ),
        driver.query<{ status: number; n: number | string }>(
          `SELECT status, COUNT(*) AS n FROM deliveries WHERE ${where} AND status <> ${MessageStatus.success} GROUP BY status`,
          filter.params,
        ),
      ]);
      let unsettled = 0;
      const counts: EndpointStatsCounts = { success: 0, pending: 0, sending: 0, fail: 0, canceled: 0 };
      for (const row of rows) {
        const name = statusText[Number(row.status)];
        if (name) counts[name] = Number(row.n);
        unsettled += Number(row.n);
      }
      counts.success = Number(total?.n ?? 0) - unsettled;
      return counts;
    },
  };
  return store;
}
