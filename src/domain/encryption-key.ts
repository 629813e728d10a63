import { createHash } from 'node:crypto';

/**
 * The keys of `HOOKYARD_ENCRYPTION_KEY` (storage/sealing.ts uses them): 32 random bytes each, written
 * as base64 (44 characters, `openssl rand -base64 32`) or hex (64, `openssl rand -hex 32`).
 */
export function decodeKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

/** 8 hex digits naming a key in sealed values and messages without revealing it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('hookyard at-rest key id\n').update(key).digest('hex').slice(0, 8);
}

/**
 * The setting's value: empty (nothing encrypted), or keys separated by commas; the first encrypts,
 * the others only decrypt (a rotation in progress).
 */
export function parseKeyList(raw: string): readonly string[] | undefined {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const ids = new Set<string>();
  for (const item of items) {
    const key = decodeKey(item);
    if (!key) return undefined;
    ids.add(keyIdOf(key));
  }
  if (ids.size !== items.length) return undefined;
  return items;
}
