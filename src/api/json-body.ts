import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.ts';

/**
 * The one parser of JSON request bodies. It replaces Fastify's default so that two things are refused
 * before any route sees the body:
 *
 * - **Invalid UTF-8.** Decoding leniently turns stray bytes into U+FFFD, so a receiver would get other
 *   bytes than the producer sent. The bytes are validated first; a bad byte is a 400 `invalid_json`
 *   naming its offset.
 * - **Nesting deeper than `MAX_JSON_DEPTH`.** Anything deeper than this overflowed the stack where the
 *   payload is serialised again (a 500). A deeper body is a 422 `json_too_deep` whose `loc` is the path
 *   to the first value past the limit.
 *
 * Everything else (the body limit, empty bodies, `__proto__` and `constructor` poisoning) stays
 * Fastify's behaviour: the text goes on to Fastify's own JSON parser.
 */

/**
 * Objects and arrays may nest this deep, the body itself being level 1. It is serde_json's recursion
 * limit, which the Svix server parses request bodies with: what Svix accepts, Hookyard accepts.
 */
export const MAX_JSON_DEPTH = 128;

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
      // isUtf8 (simdutf) validates as strictly as a fatal TextDecoder at a thirtieth of its cost here;
      // the lenient decode that follows then has nothing left to replace.
      if (!isUtf8(body)) {
        done(invalidUtf8(body));
        return;
      }
      parseJson(request, body.toString('utf8'), (error, value) => {
        if (error) done(error);
        else if (exceedsDepth(value, MAX_JSON_DEPTH)) done(tooDeep(value));
        else done(null, value);
      });
    },
  );
}

function invalidUtf8(bytes: Uint8Array): ApiError {
  const offset = invalidUtf8Offset(bytes) ?? 0;
  const byte = (bytes[offset] ?? 0).toString(16).padStart(2, '0');
  return new ApiError(
    'invalid_json',
    `The request body is not valid UTF-8: the byte at offset ${offset} (0x${byte}) is not part of a well-formed UTF-8 character. Send JSON encoded as UTF-8.`,
  );
}

/** The offset of the first byte that is not part of a well-formed UTF-8 sequence, or undefined. */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // Unicode Table 3-7: the second byte's range depends on the lead (no overlongs, no surrogates, <= U+10FFFF).
    let size: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) size = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      size = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      size = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < size; k++) {
      const next = bytes[i + k];
      if (next === undefined) return i;
      if (k === 1 ? next < low || next > high : next < 0x80 || next > 0xbf) return i;
    }
    i += size;
  }
  return undefined;
}

/**
 * Whether objects and arrays in a parsed JSON value nest deeper than `limit` (the value itself being
 * level 1). It walks the parsed value rather than the text: a tenth of the cost of scanning every
 * character, and JSON.parse itself is not recursive, so any depth parses first.
 */
export function exceedsDepth(root: unknown, limit: number): boolean {
  if (root === null || typeof root !== 'object') return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    if (Array.isArray(value)) {
      for (const child of value as unknown[]) {
        if (child !== null && typeof child === 'object') {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in value) {
        const child = (value as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') {
          values.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** The 422 naming the path to the first value past the limit. */
function tooDeep(value: unknown): ApiError {
  const path = pathPastDepth(value, MAX_JSON_DEPTH) ?? [];
  const msg = `JSON nested deeper than ${MAX_JSON_DEPTH} levels (objects and arrays, the body being level 1) is not accepted.`;
  return new ApiError('json_too_deep', undefined, {
    items: [{ loc: ['body', ...path], msg, type: 'value_error.jsondepth' }],
  });
}

/** The keys leading to the first object or array at depth `limit + 1`, found without recursion. */
export function pathPastDepth(root: unknown, limit: number): (string | number)[] | undefined {
  // Each entry links to its parent, so a deep walk does not copy a path per value.
  interface Step {
    value: object;
    key: string | number;
    depth: number;
    parent: Step | undefined;
  }
  if (root === null || typeof root !== 'object') return undefined;
  const stack: Step[] = [{ value: root, key: '', depth: 1, parent: undefined }];
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    if (step.depth > limit) {
      const path: (string | number)[] = [];
      for (let at: Step | undefined = step; at?.parent; at = at.parent) path.push(at.key);
      return path.reverse();
    }
    const entries: [string | number, unknown][] = Array.isArray(step.value)
      ? step.value.map((item, index) => [index, item])
      : Object.entries(step.value);
    for (let k = entries.length - 1; k >= 0; k--) {
      const [key, child] = entries[k] as [string | number, unknown];
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, key, depth: step.depth + 1, parent: step });
    }
  }
  return undefined;
}
