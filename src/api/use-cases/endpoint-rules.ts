import { headerProblem, isSensitiveHeader } from '../../domain/endpoint-headers.ts';
import { ApiError } from '../../errors/api-error.ts';
import { generateSecret, generateSigningKeyPair, normaliseSecret, publicKeyOf } from '../../signing/keys.ts';
import type { EndpointRecord, EndpointSecret } from '../../storage/contract.ts';
import { iso } from '../serialize.ts';

/**
 * What application endpoints and operational-webhook endpoints share: their keys (generation,
 * rotation with a grace period), and the checks and display of their custom headers.
 */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** Rotated-out keys still inside their grace period, besides the current one (Svix's limit). */
export const MAX_PREVIOUS_SECRETS = 10;

export type SignatureType = 'hmac256' | 'ed25519';

/** A new key of the type named: an HMAC `whsec_` secret, or an ed25519 `whsk_` signing key. */
export function generateKey(type: SignatureType): string {
  return type === 'ed25519' ? generateSigningKeyPair().secretKey : generateSecret();
}

/** The key given (checked, normalised), or a new one of `type`. */
export function secretFrom(given: string | null | undefined, loc: string[], type: SignatureType): string {
  if (given === undefined || given === null) return generateKey(type);
  const result = normaliseSecret(given);
  if (!result.ok) throw ApiError.validation(loc, result.reason);
  return result.secret;
}

export function checkedHeaders(headers: Readonly<Record<string, string | null>>, loc: string[]): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) continue;
    const problem = headerProblem(name, value);
    if (problem) throw ApiError.validation([...loc, name], `header ${name} ${problem}`);
  }
}

/** Headers as shown: sensitive values left out, their names listed (as Svix shows them). */
export function headersOut(endpoint: EndpointRecord): {
  headers: Record<string, string>;
  sensitive: string[];
} {
  const headers: Record<string, string> = {};
  const sensitive: string[] = [];
  for (const [name, value] of Object.entries(endpoint.headers)) {
    if (isSensitiveHeader(name)) sensitive.push(name);
    else headers[name] = value;
  }
  return { headers, sensitive };
}

/**
 * The keys after a rotation to `given` (or a new key of the current key's type, so the receiver's way
 * of verifying still holds). The outgoing key keeps signing beside the new one for the grace period,
 * so a receiver that has not switched yet still verifies every delivery; at most
 * MAX_PREVIOUS_SECRETS old keys at once (400 `limit_reached`, as in Svix).
 */
export function rotatedSecrets(
  endpoint: EndpointRecord,
  given: string | null | undefined,
  graceSeconds: number | null | undefined,
  now: number,
): EndpointSecret[] {
  const type: SignatureType =
    endpoint.secrets[0] && publicKeyOf(endpoint.secrets[0].key) ? 'ed25519' : 'hmac256';
  const key = secretFrom(given, ['body', 'key'], type);
  const graceMs = (graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const previous: EndpointSecret[] = [];
  const [current, ...older] = endpoint.secrets;
  if (current && graceMs > 0) previous.push({ key: current.key, expiresAt: now + graceMs });
  for (const secret of older) {
    if (secret.expiresAt !== null && secret.expiresAt > now) previous.push(secret);
  }
  if (previous.length > MAX_PREVIOUS_SECRETS) {
    const nextExpiry = Math.min(...previous.map((secret) => secret.expiresAt ?? now));
    throw new ApiError(
      'limit_reached',
      `An endpoint keeps at most ${MAX_PREVIOUS_SECRETS} old keys in their grace period; the next one expires at ${iso(nextExpiry)}. Rotate after that, or with gracePeriodSeconds 0.`,
    );
  }
  return [{ key, expiresAt: null }, ...previous];
}

/** What `GET .../secret` shows: the HMAC secret, or for a v1a endpoint only its public key. */
export function secretOut(endpoint: EndpointRecord): { key: string } {
  const current = endpoint.secrets[0];
  if (!current) throw ApiError.notFound('Endpoint secret');
  return { key: publicKeyOf(current.key) ?? current.key };
}
