import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { AddressGuard } from '../../domain/address-rules.ts';
import { checkEndpointUrl } from '../../domain/endpoint-url.ts';
import { ApiError } from '../../errors/api-error.ts';
import type { EgressProxy, EndpointEgress } from '../../storage/contract.ts';

/**
 * An HTTP endpoint's egress settings (a Hookyard addition beside the Svix fields): the client
 * certificate and key for mTLS, a CA bundle trusted instead of the public roots, and a proxy
 * override. Checked when saved, so a delivery never finds out that its PEM does not parse; shown
 * only as descriptions (subject, fingerprint, expiry), never as the PEM or the key.
 */

/** What create, update and patch accept under `egress`; absent keeps, null clears a field. */
export interface EgressInput {
  clientCertificate?: string | null | undefined;
  clientKey?: string | null | undefined;
  caBundle?: string | null | undefined;
  proxy?: string | null | undefined;
}

/** The word that opts one endpoint out of HOOKYARD_EGRESS_PROXY. */
export const DIRECT = 'direct';

const NONE: EndpointEgress = {
  clientCertificate: null,
  clientKey: null,
  caBundle: null,
  proxy: { kind: 'default' },
};

/**
 * The endpoint's egress after applying `given` to `current` (absent field: kept; null: cleared;
 * `egress: null`: all cleared), checked. Undefined when nothing is set, so the row stores NULL.
 */
export function egressFrom(
  given: EgressInput | null | undefined,
  current: EndpointEgress | undefined,
  guard: AddressGuard,
): EndpointEgress | undefined {
  if (given === undefined) return current;
  if (given === null) return undefined;
  const base = current ?? NONE;
  const pick = <K extends 'clientCertificate' | 'clientKey' | 'caBundle'>(key: K) =>
    given[key] === undefined ? base[key] : (given[key]?.trim() ?? null) || null;
  const next: EndpointEgress = {
    clientCertificate: pick('clientCertificate'),
    clientKey: pick('clientKey'),
    caBundle: pick('caBundle'),
    proxy: given.proxy === undefined ? base.proxy : proxyFrom(given.proxy, guard),
  };
  checkClientPair(next.clientCertificate, next.clientKey);
  if (next.caBundle !== null) certificatesOf(next.caBundle, 'caBundle');
  const empty =
    next.clientCertificate === null &&
    next.clientKey === null &&
    next.caBundle === null &&
    next.proxy.kind === 'default';
  return empty ? undefined : next;
}

function proxyFrom(given: string | null, guard: AddressGuard): EgressProxy {
  if (given === null || given.trim() === '') return { kind: 'default' };
  const value = given.trim();
  if (value.toLowerCase() === DIRECT) return { kind: 'direct' };
  const loc = ['body', 'egress', 'proxy'];
  // The proxy is reached like a receiver: its literal address must pass the address guard now, its
  // name is checked at every connection (http-client.ts). https-only does not apply: the tunnel
  // carries the receiver's own TLS.
  const verdict = checkEndpointUrl(value, { httpsOnly: false, allowedSubnets: [] }, guard);
  if (!verdict.ok)
    throw ApiError.validation(
      loc,
      `the proxy must be "${DIRECT}" or an http:// or https:// proxy URL the address guard allows: ${verdict.reason}`,
      'value_error.url',
    );
  if (verdict.url.pathname !== '/' || verdict.url.search !== '' || verdict.url.hash !== '')
    throw ApiError.validation(
      loc,
      'the proxy URL takes a scheme, an optional user:password@, a host and a port only (no path or query)',
      'value_error.url',
    );
  return { kind: 'proxy', url: value };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** Every certificate in a PEM text; a 422 on `field` when it holds none, another block or garbage. */
function certificatesOf(pem: string, field: string): X509Certificate[] {
  const loc = ['body', 'egress', field];
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const rest = pem.replace(PEM_BLOCK, '').trim();
  if (blocks.length === 0 || rest !== '')
    throw ApiError.validation(
      loc,
      `${field} must be PEM text: one or more "-----BEGIN CERTIFICATE-----" blocks and nothing else`,
      'value_error.pem',
    );
  return blocks.map((block, index) => {
    if (block[1] !== 'CERTIFICATE')
      throw ApiError.validation(
        loc,
        `${field} block ${index + 1} is a ${block[1]}, not a CERTIFICATE${block[1]?.includes('PRIVATE') ? ' (the key goes in clientKey)' : ''}`,
        'value_error.pem',
      );
    try {
      return new X509Certificate(block[0]);
    } catch (error) {
      throw ApiError.validation(
        loc,
        `${field} certificate ${index + 1} does not parse: ${(error as Error).message}`,
        'value_error.pem',
      );
    }
  });
}

function checkClientPair(certificate: string | null, key: string | null): void {
  if (certificate === null && key === null) return;
  if (certificate === null || key === null)
    throw ApiError.validation(
      ['body', 'egress', certificate === null ? 'clientCertificate' : 'clientKey'],
      'clientCertificate and clientKey are set together: give both (or clear both with null)',
      'value_error.pem',
    );
  const [leaf] = certificatesOf(certificate, 'clientCertificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw ApiError.validation(
      ['body', 'egress', 'clientKey'],
      `clientKey is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1): ${(error as Error).message}`,
      'value_error.pem',
    );
  }
  if (!leaf?.checkPrivateKey(privateKey))
    throw ApiError.validation(
      ['body', 'egress', 'clientKey'],
      'clientKey does not match clientCertificate (the first certificate of the chain must be the one the key belongs to)',
      'value_error.pem',
    );
}

function describe(certificate: X509Certificate) {
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    fingerprint256: certificate.fingerprint256,
    validFrom: new Date(certificate.validFrom).toISOString(),
    validTo: new Date(certificate.validTo).toISOString(),
  };
}

/** The proxy as shown: `direct`, the proxy's scheme, host and port (credentials never), or null. */
function proxyOut(proxy: EgressProxy): string | null {
  if (proxy.kind === 'default') return null;
  if (proxy.kind === 'direct') return DIRECT;
  return new URL(proxy.url).origin;
}

/** `egress` in EndpointOut: null when the endpoint has none. */
export function egressOut(egress: EndpointEgress | undefined) {
  if (!egress) return null;
  const chain = egress.clientCertificate === null ? [] : certificatesOf(egress.clientCertificate, 'stored');
  const leaf = chain[0];
  return {
    clientCertificate: leaf ? describe(leaf) : null,
    caBundle: egress.caBundle === null ? null : certificatesOf(egress.caBundle, 'stored').map(describe),
    proxy: proxyOut(egress.proxy),
  };
}

/** `egress` as a record field: absent when the endpoint has none, so the row stores NULL. */
export function withEgress(egress: EndpointEgress | undefined): { egress?: EndpointEgress } {
  return egress ? { egress } : {};
}
