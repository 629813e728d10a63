/**
 * Rules for the custom headers an endpoint sends with each delivery. Headers that would let a caller
 * forge a signature, confuse framing or spoof proxies are reserved (as Svix reserves them); headers
 * carrying credentials are stored but shown redacted.
 */
const RESERVED_EXACT = new Set([
  // Svix's forbidden keys.
  'user-agent',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'age',
  'cache-control',
  'clear-site-data',
  'expires',
  'pragma',
  'warning',
  'content-length',
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
  // Hookyard's additions: framing and proxy headers.
  'connection',
  'expect',
  'host',
  'proxy-connection',
  'trailer',
  'via',
  'x-real-ip',
]);
/** Svix's forbidden prefixes, plus `webhook-` (the Standard Webhooks headers) and `x-forwarded-`. */
const RESERVED_PREFIXES = [
  'svix-',
  'x-svix-',
  'webhook-',
  'x-forwarded-',
  'x-amz-',
  'x-amzn-',
  'x-goog-',
  'x-google',
  'x-gfe',
  'x-azure-',
  'x-fd-',
];
/** Shown as names only (`sensitive`), never with their values: Svix's list, plus cookies and api keys. */
const SENSITIVE = new Set([
  'authorization',
  'proxy-authenticate',
  'www-authenticate',
  'x-auth-token',
  'x-api-key',
  'api-key',
  'cookie',
]);

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, space and tab; no CR/LF, which would split the request. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const headerLimits = { nameLength: 256, valueLength: 4096, count: 50 } as const;

/** Why a header may not be set, or undefined when it may. */
export function headerProblem(name: string, value: string): string | undefined {
  const lower = name.toLowerCase();
  if (!HEADER_NAME.test(name) || name.length > headerLimits.nameLength) return 'is not a valid header name';
  if (RESERVED_EXACT.has(lower) || RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix)))
    return 'is reserved and set by Hookyard';
  if (!HEADER_VALUE.test(value) || value.length > headerLimits.valueLength)
    return 'has a value with control characters or longer than 4096 characters';
  return undefined;
}

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE.has(name.toLowerCase());
}

/** Header names compare case-insensitively: setting `x-a` replaces an existing `X-A`. */
export function mergeHeaders(
  current: Readonly<Record<string, string>>,
  changes: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const changed = new Set(Object.keys(changes).map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(current))
    if (!changed.has(name.toLowerCase())) out[name] = value;
  for (const [name, value] of Object.entries(changes)) if (value !== null) out[name] = value;
  return out;
}
