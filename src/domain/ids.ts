import { randomBytes } from 'node:crypto';

/**
 * Svix-style ids: a prefix plus 27 base62 characters encoding 20 bytes, 6 bytes of milliseconds
 * since the Unix epoch then 14 of randomness. Ids sort by creation time (string order = time order),
 * which keyset pagination relies on. Within one millisecond a process increments the random part,
 * so its ids stay strictly increasing (ULID's monotonic rule).
 */
export const idPrefixes = {
  application: 'app_',
  endpoint: 'ep_',
  destination: 'sink_',
  message: 'msg_',
  delivery: 'msgep_',
  attempt: 'atmpt_',
  task: 'qtask_',
  portalToken: 'appsk_',
} as const;

export type IdKind = keyof typeof idPrefixes;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ENCODED_LENGTH = 27;
let lastMs = -1;
let lastRandom = Buffer.alloc(14);

export function newId(kind: IdKind, now: number = Date.now()): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUIntBE(Math.max(0, Math.floor(now)), 0, 6);
  if (now <= lastMs) {
    incrementInPlace(lastRandom);
    bytes.writeUIntBE(lastMs, 0, 6);
  } else {
    lastMs = now;
    lastRandom = randomBytes(14);
  }
  lastRandom.copy(bytes, 6);
  return idPrefixes[kind] + encodeBase62(bytes);
}

/** Milliseconds encoded in an id made by `newId` (for `before`/`after` filters expressed as ids). */
export function idTime(id: string): number | undefined {
  const underscore = id.lastIndexOf('_');
  const body = id.slice(underscore + 1);
  if (body.length !== ENCODED_LENGTH || !/^[0-9A-Za-z]+$/.test(body)) return undefined;
  let value = 0n;
  for (const char of body) value = value * 62n + BigInt(ALPHABET.indexOf(char));
  return Number(value >> 112n);
}

/** What the first ten base62 digits of an id weigh in milliseconds (62^(26-i) / 2^112). */
const DIGIT_MS = Array.from({ length: 10 }, (_, i) => 62 ** (26 - i) / 2 ** 112);

/**
 * `idTime` without BigInt, to within a millisecond (the digits past the tenth weigh under 0.001 ms,
 * but the sum is a double): for metrics, which read the time of every delivered message.
 */
export function idTimeApprox(id: string): number {
  const start = id.lastIndexOf('_') + 1;
  let ms = 0;
  for (let i = 0; i < 10; i++) ms += ALPHABET.indexOf(id[start + i] ?? '0') * (DIGIT_MS[i] ?? 0);
  return Math.floor(ms);
}

/** The smallest id of `kind` that could have been created at `ms`: a keyset bound for time filters. */
export function idBoundary(kind: IdKind, ms: number): string {
  const bytes = Buffer.alloc(20);
  bytes.writeUIntBE(Math.max(0, Math.floor(ms)), 0, 6);
  return idPrefixes[kind] + encodeBase62(bytes);
}

/**
 * The id of `kind` whose 20 bytes are `bytes` (6 of milliseconds, then 14): for tools that lay out
 * ids themselves, such as the bench's history filler, which must stamp times `newId` will not (it
 * never goes back in time within a process).
 */
export function idOfBytes(kind: IdKind, bytes: Buffer): string {
  return idPrefixes[kind] + encodeBase62(bytes);
}

function incrementInPlace(buffer: Buffer): void {
  for (let i = buffer.length - 1; i >= 0; i--) {
    const next = (buffer[i] ?? 0) + 1;
    buffer[i] = next & 0xff;
    if (next <= 0xff) return;
  }
}

/**
 * Base62 of the 20 bytes, fixed width: long division of the number, held as ten 16-bit limbs, by 62.
 * Plain arithmetic rather than BigInt, since an id is made for every message, delivery and attempt.
 */
function encodeBase62(bytes: Buffer): string {
  const limbs: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) limbs.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  const out: string[] = new Array(ENCODED_LENGTH);
  for (let position = ENCODED_LENGTH - 1; position >= 0; position--) {
    let remainder = 0;
    for (let i = 0; i < limbs.length; i++) {
      const value = remainder * 65536 + (limbs[i] ?? 0);
      limbs[i] = Math.floor(value / 62);
      remainder = value % 62;
    }
    out[position] = ALPHABET[remainder] ?? '0';
  }
  return out.join('');
}
