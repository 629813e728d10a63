import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressGuard } from '../domain/address-rules.ts';

/**
 * SSRF protection at connection time. An endpoint URL is checked when it is stored
 * (domain/endpoint-url.ts), and every connection is checked again against the address it actually
 * reaches (`guardedLookup`, and the connector in http-client.ts for literal IPs) with the rules of
 * domain/address-rules.ts, so a name that resolves elsewhere later (DNS rebinding) gains nothing.
 */

/** Raised when a connection would reach a blocked address; `code` feeds the outcome table. */
export class AddressBlockedError extends Error {
  override name = 'AddressBlockedError';
  readonly code = 'EADDRBLOCKED';
}

/**
 * A `lookup` for net/tls.connect that resolves the name, drops blocked addresses and fails when none
 * is left, so the socket can only be opened to an address the guard approved.
 */
export function guardedLookup(guard: AddressGuard): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      let firstRefusal: string | undefined;
      const usable = addresses.filter((entry) => {
        const verdict = guard.check(entry.address);
        if (verdict.blocked) firstRefusal ??= verdict.reason;
        return !verdict.blocked;
      });
      const first = usable[0];
      if (!first) {
        return callback(new AddressBlockedError(`${hostname}: ${firstRefusal ?? 'no address'}`), []);
      }
      if (options.all) return callback(null, usable);
      callback(null, first.address, first.family);
    });
  };
}

export { type AddressGuard, createAddressGuard } from '../domain/address-rules.ts';
