import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Admin tokens are stored only as SHA-256 digests; comparing digests keeps the compare constant-time. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function tokenMatches(token: string, expectedHash: Buffer): boolean {
  const actual = hashToken(token);
  return actual.length === expectedHash.length && timingSafeEqual(actual, expectedHash);
}

/** A new admin token: a recognisable prefix and 32 random bytes. */
export function generateAdminToken(): string {
  return `hyadm_${randomBytes(32).toString('base64url')}`;
}
