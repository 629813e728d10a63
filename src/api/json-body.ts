import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.ts';

/**
 * The one parser of JSON request bodies. It replaces Fastify's default so that two things are refused
 * before any route sees the body:
 *
 * - **Invalid UTF-8.** Decoding leniently turns stray bytes into U+FFFD, so a receiver would get other
 *   bytes than the producer sent. The body is decoded with a fatal decoder instead; a bad byte is a 400
 *   `invalid_json` naming its offset.
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

const decoder = new TextDecoder('utf-8', { fatal: true });

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
      let text: string;
      try {
        text = decoder.decode(body);
      } catch {
        done(invalidUtf8(body));
        return;
      }
      if (exceedsDepth(text, MAX_JSON_DEPTH)) {
        done(tooDeep(text) ?? new ApiError('invalid_json'));
        return;
      }
      parseJson(request, text, done);
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

/** Whether objects/arrays in the JSON text nest deeper than `limit`; brackets inside strings do not count. */
export function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The 422 naming the path to the first value past the limit; undefined when the text is not JSON at all. */
function tooDeep(text: string): ApiError | undefined {
  let value: unknown;
  try {
    // JSON.parse itself is not recursive; only walking the result is, so the walk below keeps a stack.
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const path = pathPastDepth(value, MAX_JSON_DEPTH);
  if (!path) return undefined;
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
