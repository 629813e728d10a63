import { isIP } from 'node:net';
import { type AddressGuard, createAddressGuard } from './address-rules.ts';
import type { Cidr } from './cidr.ts';

/**
 * The endpoint-URL rules, shared by every place a URL enters Hookyard: the API (an endpoint's URL),
 * the configuration (HOOKYARD_OPERATIONAL_WEBHOOK_URL) and delivery, which reaches the URL stored.
 */

/** Why a string is not a URL an endpoint could have; `code` is the API's validation error type. */
export interface UrlShapeProblem {
  ok: false;
  code: 'value_error.url' | 'value_error.url.scheme' | 'value_error.url.host';
  reason: string;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** An absolute http(s) URL with a host, or the first thing wrong with it. */
export function parseEndpointUrl(raw: string): { ok: true; url: URL } | UrlShapeProblem {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: 'value_error.url', reason: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, code: 'value_error.url.scheme', reason: 'the URL must use http or https' };
  if (url.hostname === '') return { ok: false, code: 'value_error.url.host', reason: 'the URL has no host' };
  return { ok: true, url };
}

/**
 * Validates an endpoint URL when it is created or changed. Host names are not resolved here (they
 * are checked at every connection instead); literal addresses, in any spelling the WHATWG parser
 * folds to dotted or bracketed form, and `localhost` names are judged now so the user hears at once.
 */
export function checkEndpointUrl(
  raw: string,
  config: { readonly httpsOnly: boolean; readonly allowedSubnets: readonly Cidr[] },
  guard: AddressGuard = createAddressGuard(config.allowedSubnets),
): UrlCheck {
  const parsed = parseEndpointUrl(raw);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const { url } = parsed;
  if (config.httpsOnly && url.protocol !== 'https:')
    return notAllowed('only https URLs are accepted (HOOKYARD_HTTPS_ONLY is on)');
  const host = url.hostname.toLowerCase();
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  const name = bare.endsWith('.') ? bare.slice(0, -1) : bare;
  if (isIP(bare) !== 0) {
    const verdict = guard.check(bare);
    return verdict.blocked ? notAllowed(verdict.reason) : { ok: true, url };
  }
  if (name === 'localhost' || name.endsWith('.localhost')) {
    const verdict = guard.check('127.0.0.1');
    if (verdict.blocked) return notAllowed(`${name} is loopback; ${verdict.reason.split('; ')[1]}`);
  }
  return { ok: true, url };
}

function notAllowed(reason: string): UrlCheck {
  return { ok: false, reason };
}
