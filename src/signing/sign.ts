import { parseSigningKey, signWith } from './keys.ts';

export interface SignableSecret {
  readonly key: string;
  /** A rotated-out key keeps signing until this time (ms); null = current. */
  readonly expiresAt: number | null;
}

/**
 * The `webhook-signature` header: one entry per key still valid at `now`, space-separated, so a
 * receiver that has only the old or only the new secret during a rotation's grace period accepts it.
 * Throws when no key can sign, which is a data error the caller records as the attempt's failure.
 */
export function signatureHeader(
  secrets: readonly SignableSecret[],
  msgId: string,
  timestampSeconds: number,
  body: string,
  now: number,
): string {
  const content = Buffer.from(`${msgId}.${timestampSeconds}.${body}`);
  const entries: string[] = [];
  for (const secret of secrets) {
    if (secret.expiresAt !== null && secret.expiresAt <= now) continue;
    const key = parseSigningKey(secret.key);
    if (key) entries.push(signWith(key, content));
  }
  if (entries.length === 0) throw new Error('the endpoint has no valid signing secret');
  return entries.join(' ');
}
