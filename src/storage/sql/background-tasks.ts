import type { BackgroundTaskRecord, BackgroundTaskStatus, BackgroundTaskStore } from '../contract.ts';
import type { SqlContext } from './context.ts';
import { first } from './driver.ts';
import { add, conditions, keysetPage } from './paging.ts';

interface TaskRow {
  id: string;
  task: string;
  status: string;
  data: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = 'id, task, status, data, created_at, updated_at';

function toTask(row: TaskRow): BackgroundTaskRecord {
  return {
    id: row.id,
    task: row.task,
    status: row.status as BackgroundTaskStatus,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The background tasks the API starts: a row each, written when started and when finished. */
export function createBackgroundTaskStore(ctx: SqlContext): BackgroundTaskStore {
  const { driver } = ctx;
  const store: BackgroundTaskStore = {
    async create(record) {
      await driver.run(`INSERT INTO background_tasks (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [
        record.id,
        record.task,
        record.status,
        JSON.stringify(record.data),
        record.createdAt,
        record.updatedAt,
      ]);
      return record;
    },

    async finish(id, status, data, now) {
      const count = await driver.run(
        'UPDATE background_tasks SET status = ?, data = ?, updated_at = ? WHERE id = ?',
        [status, JSON.stringify(data), now, id],
      );
      return count > 0;
    },

    async get(id) {
      const row = await first<TaskRow>(driver, `SELECT ${COLUMNS} FROM background_tasks WHERE id = ?`, [id]);
      return row && toTask(row);
    },

    list(filter, page) {
      const where = conditions();
      if (filter.status !== undefined) add(where, 'status = ?', filter.status);
      if (filter.task !== undefined) add(where, 'task = ?', filter.task);
      return keysetPage<TaskRow, BackgroundTaskRecord>(driver, {
        select: `SELECT ${COLUMNS} FROM background_tasks`,
        filter: where,
        key: 'id',
        page,
        map: toTask,
      });
    },
  };
  return store;
}
