import { headerProblem } from '../domain/endpoint-headers.ts';
import { signatureHeader } from '../signing/sign.ts';
import type { EndpointRecord } from '../storage/contract.ts';
import { version } from '../version.ts';

/**
 * The headers of a delivery request: the endpoint's custom headers (re-checked, so a hand-edited row
 * cannot override a signature header or break the framing), then content type and the Standard
 * Webhooks / Svix signature headers. The dispatcher signs with it; the attempt view of the API uses it
 * to show a past request as it was signed (same secrets at the attempt's time).
 */
export const USER_AGENT = `Hookyard/${version}`;

export function requestHeaders(
  endpoint: Pick<EndpointRecord, 'headers' | 'secrets'>,
  msgId: string,
  timestampSeconds: number,
  body: string,
  now: number,
  style: 'both' | 'webhook' | 'svix',
): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [name, value] of Object.entries(endpoint.headers)) {
    if (headerProblem(name, value) === undefined) headers[name.toLowerCase()] = value;
  }
  headers['content-type'] = 'application/json';
  const signature = signatureHeader(endpoint.secrets, msgId, timestampSeconds, body, now);
  if (style !== 'svix') {
    headers['webhook-id'] = msgId;
    headers['webhook-timestamp'] = String(timestampSeconds);
    headers['webhook-signature'] = signature;
  }
  if (style !== 'webhook') {
    headers['svix-id'] = msgId;
    headers['svix-timestamp'] = String(timestampSeconds);
    headers['svix-signature'] = signature;
  }
  return headers;
}
