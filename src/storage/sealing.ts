import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeKey, keyIdOf } from '../domain/encryption-key.ts';

/**
 * Encryption at rest of the endpoint columns that hold credentials (signing keys, destination
 * configs, client keys), with AES-256-GCM from node:crypto. A sealed value is text:
 *
 *     hyenc:v1:<key id>:<base64 of 12-byte IV | 16-byte tag | ciphertext>
 *
 * The key id (8 hex digits of a hash of the key) says which key sealed it, so several keys can be
 * held during a rotation and a value sealed with a key no longer configured is named, never
 * guessed at. The column name is the GCM additional data: a sealed value copied into another column
 * does not open. Text without the prefix is a value written before a key was set and reads as is
 * (JSON never starts with `hyenc:`), so turning encryption on needs no migration.
 */
export const SEALED_PREFIX = 'hyenc:v1:';
/** `hyenc:v1:` + 8 hex digits + `:`: what a SQL `substr` needs to read a sealed value's key id. */
export const SEALED_HEAD_LENGTH = SEALED_PREFIX.length + 9;

export interface Sealer {
  /** Whether new values are sealed (a key is set and this is not a `--plaintext` rewrite). */
  readonly sealing: boolean;
  /** Ids of the keys this sealer can open with, the sealing one first. */
  readonly keyIds: readonly string[];
  /** The value to store: sealed with the first key, or `text` itself when not sealing. */
  seal(text: string, column: string): string;
  /** The stored value's text: opened when sealed (throws SealedValueError if it cannot be), else as is. */
  open(stored: string, column: string): string;
}

export class SealedValueError extends Error {
  override name = 'SealedValueError';
}

/** The key id in a stored value's head (`hyenc:v1:<id>:`), or undefined for a plaintext value. */
export function sealedKeyId(stored: string): string | undefined {
  if (!stored.startsWith(SEALED_PREFIX)) return undefined;
  return stored.slice(SEALED_PREFIX.length, SEALED_PREFIX.length + 8);
}

/**
 * `keys` as `HOOKYARD_ENCRYPTION_KEY` lists them (already checked by the setting's parser): the first
 * seals, every one opens. No keys: nothing is sealed, and a sealed value fails to open.
 */
export function createSealer(keys: readonly string[], options: { plaintext?: boolean } = {}): Sealer {
  const decoded = keys.map((text) => {
    const key = decodeKey(text);
    if (!key) throw new Error('HOOKYARD_ENCRYPTION_KEY: a key is not 32 bytes of base64 or hex');
    return { id: keyIdOf(key), key };
  });
  const byId = new Map(decoded.map((entry) => [entry.id, entry.key]));
  const current = options.plaintext ? undefined : decoded[0];
  return {
    sealing: current !== undefined,
    keyIds: decoded.map((entry) => entry.id),
    seal(text, column) {
      if (!current) return text;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(column));
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
      return `${SEALED_PREFIX}${current.id}:${sealed}`;
    },
    open(stored, column) {
      const id = sealedKeyId(stored);
      if (id === undefined) return stored;
      const key = byId.get(id);
      if (!key)
        throw new SealedValueError(
          `a stored ${column} value is encrypted with key ${id}, which HOOKYARD_ENCRYPTION_KEY does not hold`,
        );
      const bytes = Buffer.from(stored.slice(SEALED_HEAD_LENGTH), 'base64');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(column));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      } catch (cause) {
        throw new SealedValueError(`a stored ${column} value (key ${id}) does not decrypt: it was altered`, {
          cause,
        });
      }
    },
  };
}

/** What storage uses when no key is configured (tests, and callers that never set one). */
export const PLAINTEXT: Sealer = createSealer([]);
