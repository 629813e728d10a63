import { createHmac, verify as edVerify, timingSafeEqual } from 'node:crypto';
import { parseVerifyingKey, type VerifyingKey } from './keys.ts';

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export type Verification = { ok: true; msgId: string; timestamp: number } | { ok: false; reason: string };

export interface VerifyInput {
  /** Request headers with lower-case names (node:http's `req.headers` works as is). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body exactly as received. */
  readonly body: Buffer | string;
  /** `whsec_…` and/or `whpk_…`; any one matching signature is enough. */
  readonly secrets: readonly string[];
  /** Milliseconds; defaults to now. */
  readonly now?: number;
  readonly toleranceSeconds?: number;
}

/**
 * Receiver-side Standard Webhooks verification (what `hookyard listen` runs). Reads `webhook-*`
 * headers, falling back to Svix's `svix-*` names. Signatures are compared in constant time (HMAC)
 * or checked by ed25519 verify (v1a); entries of unknown versions are skipped, not fatal.
 */
export function verifyWebhook(input: VerifyInput): Verification {
  const msgId = header(input.headers, 'id');
  const timestampText = header(input.headers, 'timestamp');
  const signatures = header(input.headers, 'signature');
  if (!msgId || !timestampText || !signatures)
    return { ok: false, reason: 'missing webhook-id, -timestamp or -signature header' };
  if (!/^\d+$/.test(timestampText)) return { ok: false, reason: 'invalid webhook-timestamp' };

  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (timestamp < nowSeconds - tolerance) return { ok: false, reason: 'timestamp too old' };
  if (timestamp > nowSeconds + tolerance) return { ok: false, reason: 'timestamp too new' };

  const keys = input.secrets.map(parseVerifyingKey).filter((key): key is VerifyingKey => key !== undefined);
  if (keys.length === 0) return { ok: false, reason: 'no usable secret (expected whsec_… or whpk_…)' };

  const body = typeof input.body === 'string' ? Buffer.from(input.body) : input.body;
  const content = Buffer.concat([Buffer.from(`${msgId}.${timestampText}.`), body]);
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0) continue;
    const version = entry.slice(0, comma);
    const signature = Buffer.from(entry.slice(comma + 1), 'base64');
    for (const key of keys) {
      if (key.version !== version) continue;
      if (matches(key, content, signature)) return { ok: true, msgId, timestamp };
    }
  }
  return { ok: false, reason: 'no matching signature' };
}

function matches(key: VerifyingKey, content: Buffer, signature: Buffer): boolean {
  if (key.version === 'v1a')
    return signature.length === 64 && edVerify(null, content, key.publicKey, signature);
  const expected = createHmac('sha256', key.hmacKey).update(content).digest();
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

function header(headers: VerifyInput['headers'], name: 'id' | 'timestamp' | 'signature'): string | undefined {
  const value = headers[`webhook-${name}`] ?? headers[`svix-${name}`];
  return Array.isArray(value) ? value[0] : value;
}
