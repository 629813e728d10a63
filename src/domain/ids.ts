import { randomFillSync } from 'node:crypto';

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
/** The random part of an id: 14 of its 20 bytes. */
const RANDOM_BYTES = 14;
const LIMB = 2 ** 32;
const DIVISOR = 62 ** 3;
const ALPHABET_CODES = Array.from(ALPHABET, (char) => char.charCodeAt(0));
/** The character codes of one encoding, reused: ids are made synchronously, one at a time. */
const digitCodes = new Array<number>(ENCODED_LENGTH).fill(0);
/** Each character code's digit value, -1 for a character outside the alphabet. */
const DIGIT_VALUES = Array.from({ length: 128 }, (_, code) => ALPHABET.indexOf(String.fromCharCode(code)));
let lastMs = -1;
const lastRandom = Buffer.alloc(RANDOM_BYTES);
/** The 20 bytes of the id being made, reused: `newId` encodes them before it returns. */
const idBytes = Buffer.alloc(20);
/**
 * Randomness for new milliseconds, drawn from a pool filled in one call: a `randomBytes` call for
 * each millisecond was 0.8 % of the process's CPU in the steady bench (three ids per delivery). Ids
 * are not secrets; the pool only saves the calls, not the quality of the bytes.
 */
const randomPool = Buffer.alloc(RANDOM_BYTES * 512);
let poolOffset = randomPool.length;

export function newId(kind: IdKind, now: number = Date.now()): string {
  idBytes.writeUIntBE(Math.max(0, Math.floor(now)), 0, 6);
  if (now <= lastMs) {
    incrementInPlace(lastRandom);
    idBytes.writeUIntBE(lastMs, 0, 6);
  } else {
    lastMs = now;
    if (poolOffset + RANDOM_BYTES > randomPool.length) {
      randomFillSync(randomPool);
      poolOffset = 0;
    }
    randomPool.copy(lastRandom, 0, poolOffset, poolOffset + RANDOM_BYTES);
    poolOffset += RANDOM_BYTES;
  }
  lastRandom.copy(idBytes, 6);
  return idPrefixes[kind] + encodeBase62(idBytes);
}

/**
 * Milliseconds encoded in an id made by `newId` (for `before`/`after` filters expressed as ids, and
 * the latency of every delivery in the stats): the body decoded into 32-bit limbs, the first six
 * bytes read off them. 27 digits can hold a little more than 20 bytes, so a sixth limb takes the
 * overflow of bodies `newId` never makes. Plain arithmetic rather than BigInt, as in `encodeBase62`.
 */
export function idTime(id: string): number | undefined {
  const start = id.lastIndexOf('_') + 1;
  if (id.length - start !== ENCODED_LENGTH) return undefined;
  const limbs = [0, 0, 0, 0, 0, 0];
  for (let position = start; position < id.length; position++) {
    let carry = DIGIT_VALUES[id.charCodeAt(position)] ?? -1;
    if (carry < 0) return undefined;
    for (let i = 5; i >= 0; i--) {
      const value = (limbs[i] as number) * 62 + carry;
      carry = Math.floor(value / LIMB);
      limbs[i] = value - carry * LIMB;
    }
  }
  return (limbs[0] as number) * 2 ** 48 + (limbs[1] as number) * 65536 + ((limbs[2] as number) >>> 16);
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
 * Base62 of the 20 bytes, fixed width: long division of the number, held as five 32-bit limbs, by
 * 62³ (three digits a pass, nine passes; a remainder times 2³² stays below 2⁵³). Plain arithmetic
 * rather than BigInt, since an id is made for every message, delivery and attempt.
 */
function encodeBase62(bytes: Buffer): string {
  const limbs = [
    bytes.readUInt32BE(0),
    bytes.readUInt32BE(4),
    bytes.readUInt32BE(8),
    bytes.readUInt32BE(12),
    bytes.readUInt32BE(16),
  ];
  // Remainders by multiplying back rather than `%` (a floating-point modulo), and the characters
  // gathered as codes and made into one string: concatenation was most of the old cost.
  for (let pass = ENCODED_LENGTH / 3 - 1; pass >= 0; pass--) {
    let remainder = 0;
    for (let i = 0; i < 5; i++) {
      const value = remainder * LIMB + (limbs[i] as number);
      const quotient = Math.floor(value / DIVISOR);
      limbs[i] = quotient;
      remainder = value - quotient * DIVISOR;
    }
    const upper = Math.floor(remainder / 62);
    const high = Math.floor(upper / 62);
    digitCodes[pass * 3] = ALPHABET_CODES[high] as number;
    digitCodes[pass * 3 + 1] = ALPHABET_CODES[upper - high * 62] as number;
    digitCodes[pass * 3 + 2] = ALPHABET_CODES[remainder - upper * 62] as number;
  }
  return String.fromCharCode(...digitCodes);
}
