import { type IdKind, idPrefixes } from '../domain/ids.ts';
import { ApiError } from '../errors/api-error.ts';
import type { Page, PageQuery } from '../storage/contract.ts';

/**
 * Svix pagination over the storage keyset pages. `iterator` is the key of the last item of a page;
 * `prevIterator` is the key of the first item prefixed with `-`, and passing it back walks the other
 * way (the previous page). The store returns every page in its natural order (newest first, or names
 * ascending) whichever way it walked, so only a list shown in the opposite order (`order=ascending`)
 * is flipped here.
 */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;

export interface ListQuery {
  limit?: number | undefined;
  iterator?: string | undefined;
}

export interface Cursor {
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

export interface PageWalk {
  page: PageQuery;
  /** The list is shown opposite to the store's natural order. */
  flipped: boolean;
  backwards: boolean;
  start: string | undefined;
}

/** What a list's iterator is: an id of one kind, or an event-type name. */
export type IteratorKind = IdKind | 'name';

const NAME_PATTERN = /^[a-zA-Z0-9\-_.]{1,256}$/;

/**
 * A malformed iterator is a 422, as in Svix (whose iterators are typed ids): an empty page would make a
 * client with a corrupted cursor believe the list had ended.
 */
function assertIterator(kind: IteratorKind, value: string): void {
  const ok =
    kind === 'name'
      ? NAME_PATTERN.test(value)
      : new RegExp(`^${idPrefixes[kind]}[0-9A-Za-z]{27}$`).test(value);
  if (!ok)
    throw ApiError.validation(
      ['query', 'iterator'],
      kind === 'name'
        ? 'the iterator must be an event type name from a previous page'
        : `the iterator must be an id starting with ${idPrefixes[kind]} from a previous page`,
    );
}

/**
 * `flipped`: the caller asked for the opposite of the store's natural order (`order=ascending`, say).
 * `kind` is what the list's keys are, so a malformed iterator is refused.
 */
export function pageWalk(query: ListQuery, kind: IteratorKind, flipped = false): PageWalk {
  const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
  const raw = query.iterator ?? '';
  const backwards = raw.startsWith('-');
  const start = (backwards ? raw.slice(1) : raw) || undefined;
  if (start !== undefined) assertIterator(kind, start);
  return { page: { limit, iterator: start, reverse: flipped !== backwards }, flipped, backwards, start };
}

export function finishPage<T>(
  walk: PageWalk,
  result: Page<T>,
  keyOf: (item: T) => string,
): { data: T[]; cursor: Cursor } {
  const data = walk.flipped ? [...result.data].reverse() : result.data;
  const first = data[0];
  const last = data[data.length - 1];
  // An empty page keeps the position it was asked from, so a client polling for new items does not
  // lose its place.
  return {
    data,
    cursor: {
      iterator: last === undefined ? (walk.backwards ? null : (walk.start ?? null)) : keyOf(last),
      prevIterator:
        first === undefined ? (walk.start === undefined ? null : `-${walk.start}`) : `-${keyOf(first)}`,
      done: result.done,
    },
  };
}
