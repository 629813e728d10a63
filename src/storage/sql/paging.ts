import { type IdKind, idBoundary } from '../../domain/ids.ts';
import type { Page, PageQuery, TimeRange } from '../contract.ts';
import type { SqlExecutor, SqlValue } from './driver.ts';

/** A list query under construction: conditions are ANDed, each with its own `?` values in order. */
export interface Conditions {
  where: string[];
  params: SqlValue[];
}

export function conditions(): Conditions {
  return { where: [], params: [] };
}

export function add(target: Conditions, sql: string, ...params: SqlValue[]): void {
  target.where.push(sql);
  target.params.push(...params);
}

/**
 * Ids begin with their creation time, so "created before/after" becomes a range on the id column and
 * uses the same index as the keyset. `after` is exclusive: the first millisecond that qualifies is after+1.
 */
export function addTimeRange(target: Conditions, column: string, kind: IdKind, range: TimeRange): void {
  if (range.before !== undefined) add(target, `${column} < ?`, idBoundary(kind, range.before));
  if (range.after !== undefined) add(target, `${column} >= ?`, idBoundary(kind, range.after + 1));
}

/**
 * Keyset pagination on a unique, ordered key. The default walk is newest first (descending), or
 * ascending for `ascending` lists (event types by name); `reverse` walks the other way from the
 * iterator but the page is still returned in the default order, so a client paging back sees rows the
 * same way round. One extra row is fetched to know whether the walk is `done`.
 */
export async function keysetPage<Row, T>(
  executor: SqlExecutor,
  query: {
    /** `SELECT … FROM …` with no WHERE. */
    select: string;
    filter: Conditions;
    key: string;
    ascending?: boolean;
    page: PageQuery;
    map: (row: Row) => T;
  },
): Promise<Page<T>> {
  const limit = Math.max(1, Math.floor(query.page.limit));
  const walkAscending = (query.ascending ?? false) !== (query.page.reverse ?? false);
  const where = [...query.filter.where];
  const params = [...query.filter.params];
  if (query.page.iterator !== undefined) {
    where.push(`${query.key} ${walkAscending ? '>' : '<'} ?`);
    params.push(query.page.iterator);
  }
  const sql =
    `${query.select}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
    ` ORDER BY ${query.key} ${walkAscending ? 'ASC' : 'DESC'} LIMIT ?`;
  params.push(limit + 1);
  const rows = await executor.query<Row>(sql, params);
  const done = rows.length <= limit;
  const pageRows = rows.slice(0, limit);
  if (query.page.reverse) pageRows.reverse();
  return { data: pageRows.map(query.map), done };
}
