import type { ApplicationRecord, ApplicationStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, conditions, keysetPage } from './paging.ts';
import { type ApplicationRow, applicationValues, columns, toApplication } from './rows.ts';

const COLUMNS = columns.applications.join(', ');

export function createApplicationStore(ctx: SqlContext): ApplicationStore {
  const { driver } = ctx;
  const store: ApplicationStore = {
    async create(record) {
      await ctx.mutate(async (tx, publish) => {
        await tx.run(
          `INSERT INTO applications (${COLUMNS}) VALUES (${placeholders(columns.applications.length)})`,
          applicationValues(record),
        );
        publish({ kind: 'application', appId: record.id, id: record.id });
      });
      return record;
    },

    async get(idOrUid) {
      const row = await first<ApplicationRow>(
        driver,
        `SELECT ${COLUMNS} FROM applications WHERE id = ? OR uid = ? ORDER BY id = ? DESC LIMIT 1`,
        [idOrUid, idOrUid, idOrUid],
      );
      return row && toApplication(row);
    },

    list(page, filter = {}) {
      const where = conditions();
      if (filter.excludeUid !== undefined) add(where, '(uid IS NULL OR uid <> ?)', filter.excludeUid);
      if (filter.search !== undefined && filter.search !== '') {
        // Case-insensitive substring of name or uid; LIKE's own wildcards in the search are taken literally.
        const pattern = `%${filter.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        add(where, "(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(uid) LIKE ? ESCAPE '\\')", pattern, pattern);
      }
      return keysetPage<ApplicationRow, ApplicationRecord>(driver, {
        select: `SELECT ${COLUMNS} FROM applications`,
        filter: where,
        key: 'id',
        page,
        map: toApplication,
      });
    },

    async update(record) {
      const changed = await ctx.mutate(async (tx, publish) => {
        const count = await tx.run(
          'UPDATE applications SET uid = ?, name = ?, throttle_rate = ?, metadata = ?, updated_at = ? WHERE id = ?',
          [
            record.uid,
            record.name,
            record.throttleRate,
            JSON.stringify(record.metadata),
            record.updatedAt,
            record.id,
          ],
        );
        if (count > 0) publish({ kind: 'application', appId: record.id, id: record.id });
        return count > 0;
      });
      return changed ? store.get(record.id) : undefined;
    },

    delete(id) {
      return ctx.mutate(async (tx, publish) => {
        const count = await tx.run('DELETE FROM applications WHERE id = ?', [id]);
        if (count > 0) publish({ kind: 'application', appId: id, id });
        return count > 0;
      });
    },
  };
  return store;
}
