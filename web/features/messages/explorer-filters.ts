import type { ExplorerFilters } from '../../api/queries.ts';

/** The explorer's filters live in the URL (a filtered view is a link); this reads them back. */
export const FILTER_KEYS = [
  'q',
  'app',
  'eventType',
  'channel',
  'status',
  'after',
  'before',
  'iterator',
] as const;

export function explorerFilters(search: URLSearchParams): ExplorerFilters {
  const filters: ExplorerFilters = {};
  for (const key of FILTER_KEYS) {
    const value = search.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return filters;
}
