import type { EventTypeRecord, EventTypeStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first, placeholders } from './driver.ts';
import { add, conditions, keysetPage } from './paging.ts';
import { columns, type EventTypeRow, eventTypeValues, jsonOrNull, toEventType } from './rows.ts';

const COLUMNS = columns.eventTypes.join(', ');

export function createEventTypeStore(ctx: SqlContext): EventTypeStore {
  const { driver } = ctx;
  const store: EventTypeStore = {
    async create(record) {
      await ctx.mutate(async (tx, publish) => {
        await tx.run(
          `INSERT INTO event_types (${COLUMNS}) VALUES (${placeholders(columns.eventTypes.length)})`,
          eventTypeValues(record),
        );
        publish({ kind: 'event_type', appId: null, id: record.name });
      });
      return record;
    },

    async get(name) {
      const row = await first<EventTypeRow>(driver, `SELECT ${COLUMNS} FROM event_types WHERE name = ?`, [
        name,
      ]);
      return row && toEventType(row);
    },

    list(page, options) {
      const filter = conditions();
      if (!options.includeArchived) add(filter, 'archived = 0');
      return keysetPage<EventTypeRow, EventTypeRecord>(driver, {
        select: `SELECT ${COLUMNS} FROM event_types`,
        filter,
        key: 'name',
        ascending: true,
        page,
        map: toEventType,
      });
    },

    async update(record) {
      const changed = await ctx.mutate(async (tx, publish) => {
        const count = await tx.run(
          `UPDATE event_types SET description = ?, archived = ?, deprecated = ?, feature_flag = ?, schemas = ?,
             updated_at = ? WHERE name = ?`,
          [
            record.description,
            record.archived ? 1 : 0,
            record.deprecated ? 1 : 0,
            record.featureFlag,
            jsonOrNull(record.schemas),
            record.updatedAt,
            record.name,
          ],
        );
        if (count > 0) publish({ kind: 'event_type', appId: null, id: record.name });
        return count > 0;
      });
      return changed ? store.get(record.name) : undefined;
    },

    delete(name, expunge) {
      return ctx.mutate(async (tx, publish) => {
        const count = expunge
          ? await tx.run('DELETE FROM event_types WHERE name = ?', [name])
          : await tx.run('UPDATE event_types SET archived = 1, updated_at = ? WHERE name = ?', [
              Date.now(),
              name,
            ]);
        if (count > 0) publish({ kind: 'event_type', appId: null, id: name });
        return count > 0;
      });
    },
  };
  return store;
}
