import { parseCidrList } from '../domain/cidr.ts';
import { parseDuration } from '../domain/duration.ts';
import { parseKeyList } from '../domain/encryption-key.ts';
import { parseEndpointUrl } from '../domain/endpoint-url.ts';
import { normaliseSecret, SECRET_PREFIX } from '../signing/keys.ts';

/**
 * Every Hookyard setting, defined once. Each is an environment variable `HOOKYARD_<NAME>` and a
 * `hookyard serve --<flag>`; the flag wins. `docs/configuration.md` and the README table are this list.
 * A parser returns the value or throws a message saying what the setting accepts.
 */
export interface SettingDef<T> {
  readonly env: string;
  readonly flag: string;
  readonly default: string;
  readonly accepts: string;
  readonly description: string;
  readonly secret?: boolean;
  readonly parse: (raw: string) => T;
}

function def<T>(setting: SettingDef<T>): SettingDef<T> {
  return setting;
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`an integer from ${min} to ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`an integer from ${min} to ${max}`);
    return value;
  };
}

function duration(min: number, max: number) {
  return (raw: string): number => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms < min || ms > max) throw new Error('a duration such as 500ms, 15s, 5m, 2h');
    return ms;
  };
}

function oneOf<const T extends readonly string[]>(values: T) {
  return (raw: string): T[number] => {
    const value = raw.trim().toLowerCase();
    if (!values.includes(value)) throw new Error(`one of ${values.join(', ')}`);
    return value as T[number];
  };
}

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(value)) return false;
  throw new Error('true or false');
}

/** `*`, empty, or origins (scheme://host[:port]) separated by commas or spaces. */
function originList(raw: string): readonly string[] {
  const items = raw.split(/[\s,]+/).filter((item) => item !== '');
  if (items.length === 1 && items[0] === '*') return ['*'];
  for (const item of items) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new Error('*, or origins such as https://app.example.com');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/$/, ''))
      throw new Error('*, or origins such as https://app.example.com (scheme, host and port only)');
  }
  return items.map((item) => item.replace(/\/$/, ''));
}

function retrySchedule(raw: string): readonly number[] {
  const parts = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > 50) throw new Error('a comma-separated list of 1 to 50 durations');
  return parts.map((part) => {
    const ms = parseDuration(part);
    if (ms === undefined || ms > 30 * 86_400_000)
      throw new Error('a comma-separated list of durations such as 5s,5m,2h');
    return ms;
  });
}

function databaseUrl(raw: string): string {
  const value = raw.trim();
  if (value === '' || /^postgres(ql)?:\/\//.test(value)) return value;
  throw new Error('empty (embedded SQLite) or a postgres:// URL');
}

function proxyUrl(raw: string): string {
  const value = raw.trim();
  if (value === '') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('empty or an http:// or https:// proxy URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('empty or an http:// or https:// proxy URL');
  return value;
}

export const settings = {
  port: def({
    env: 'HOOKYARD_PORT',
    flag: 'port',
    default: '8071',
    accepts: 'an integer from 0 to 65535',
    description:
      'TCP port for the API, `/metrics` and the probes `/livez` and `/readyz` (a `--role worker` process serves only `/metrics`, the probes and health).',
    parse: integer(0, 65535),
  }),
  host: def({
    env: 'HOOKYARD_HOST',
    flag: 'host',
    default: '0.0.0.0',
    accepts: 'an interface address or host name',
    description: 'Address the API binds to.',
    parse: (raw) => {
      const value = raw.trim();
      if (!value) throw new Error('an interface address or host name');
      return value;
    },
  }),
  dataDir: def({
    env: 'HOOKYARD_DATA_DIR',
    flag: 'data-dir',
    default: './data',
    accepts: 'a directory path',
    description: 'Directory for the embedded SQLite database (created if missing).',
    parse: (raw) => {
      const value = raw.trim();
      if (!value) throw new Error('a directory path');
      return value;
    },
  }),
  databaseUrl: def({
    env: 'HOOKYARD_DATABASE_URL',
    flag: 'database-url',
    default: '',
    accepts: 'empty or a postgres:// URL',
    description: 'PostgreSQL URL; empty means embedded SQLite in the data directory.',
    secret: true,
    parse: databaseUrl,
  }),
  databasePoolSize: def({
    env: 'HOOKYARD_DATABASE_POOL_SIZE',
    flag: 'database-pool-size',
    default: '10',
    accepts: 'an integer from 2 to 1000',
    description:
      'PostgreSQL connections each process keeps (plus one for LISTEN). A quarter of them (at least one) may commit ingest batches at once, as many completion batches; the rest serve claims and reads. Ignored for SQLite.',
    parse: integer(2, 1000),
  }),
  adminToken: def({
    env: 'HOOKYARD_ADMIN_TOKEN',
    flag: 'admin-token',
    default: '',
    accepts: 'a token of at least 16 characters, or empty',
    description:
      'Bearer token for the API. Empty on first start: one is generated, printed once, and only its hash kept.',
    secret: true,
    parse: (raw) => {
      const value = raw.trim();
      if (value !== '' && (value.length < 16 || /\s/.test(value)))
        throw new Error('a token of at least 16 characters without spaces, or empty');
      return value;
    },
  }),
  metricsToken: def({
    env: 'HOOKYARD_METRICS_TOKEN',
    flag: 'metrics-token',
    default: '',
    accepts: 'a token of at least 16 characters, or empty',
    description:
      'Bearer token `GET /metrics` requires (Prometheus `authorization` credentials). Empty: the metrics are open to anyone who reaches the port.',
    secret: true,
    parse: (raw) => {
      const value = raw.trim();
      if (value !== '' && (value.length < 16 || /\s/.test(value)))
        throw new Error('a token of at least 16 characters without spaces, or empty');
      return value;
    },
  }),
  logLevel: def({
    env: 'HOOKYARD_LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    accepts: 'fatal, error, warn, info, debug, trace or silent',
    description: 'Log level; logs are JSON, pretty-printed when stdout is a terminal.',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  }),
  role: def({
    env: 'HOOKYARD_ROLE',
    flag: 'role',
    default: 'all',
    accepts: 'all, api or worker',
    description: 'What this process does: serve the API, deliver webhooks, or both.',
    parse: oneOf(['all', 'api', 'worker'] as const),
  }),
  retrySchedule: def({
    env: 'HOOKYARD_RETRY_SCHEDULE',
    flag: 'retry-schedule',
    default: '5s,5m,30m,2h,5h,10h,10h',
    accepts: 'a comma-separated list of durations',
    description: 'Delays before each retry after the first (immediate) attempt; ±20 % jitter is applied.',
    parse: retrySchedule,
  }),
  deliveryTimeout: def({
    env: 'HOOKYARD_DELIVERY_TIMEOUT',
    flag: 'delivery-timeout',
    default: '15s',
    accepts: 'a duration from 100ms to 5m',
    description: 'How long one delivery attempt may take before it counts as failed.',
    parse: duration(100, 300_000),
  }),
  deliveryConcurrency: def({
    env: 'HOOKYARD_DELIVERY_CONCURRENCY',
    flag: 'delivery-concurrency',
    default: '256',
    accepts: 'an integer from 1 to 10000',
    description: 'Deliveries in flight at once per worker process.',
    parse: integer(1, 10_000),
  }),
  connectionsPerOrigin: def({
    env: 'HOOKYARD_CONNECTIONS_PER_ORIGIN',
    flag: 'connections-per-origin',
    default: '64',
    accepts: 'an integer from 1 to 1000',
    description: 'Keep-alive connections per receiver origin.',
    parse: integer(1, 1000),
  }),
  maxPayloadBytes: def({
    env: 'HOOKYARD_MAX_PAYLOAD_BYTES',
    flag: 'max-payload-bytes',
    default: '1048576',
    accepts: 'an integer from 1024 to 67108864',
    description: 'Largest message payload accepted (bytes of JSON); larger gets 413.',
    parse: integer(1024, 64 * 1024 * 1024),
  }),
  diskReserve: def({
    env: 'HOOKYARD_DISK_RESERVE',
    flag: 'disk-reserve',
    default: '8388608',
    accepts: 'an integer from 0 to 1073741824 (bytes; 0 keeps no reserve)',
    description:
      'Embedded SQLite only: bytes kept free in the data directory as the file hookyard.reserve. When the disk fills, ingest is refused (507 storage_full) and the reserve is released so deliveries of accepted messages go on; it is re-made once space is freed.',
    parse: integer(0, 1024 * 1024 * 1024),
  }),
  responseBodyLimit: def({
    env: 'HOOKYARD_RESPONSE_BODY_LIMIT',
    flag: 'response-body-limit',
    default: '4096',
    accepts: 'an integer from 0 to 1048576',
    description: "Bytes of a receiver's response body recorded with each attempt.",
    parse: integer(0, 1024 * 1024),
  }),
  allowedSubnets: def({
    env: 'HOOKYARD_ALLOWED_SUBNETS',
    flag: 'allowed-subnets',
    default: '',
    accepts: 'a comma-separated list of CIDRs, e.g. 10.0.0.0/8,fd00::/8',
    description:
      'Private or reserved ranges endpoints may nevertheless reach (the address guard blocks them by default).',
    parse: (raw) => {
      const list = parseCidrList(raw);
      if (list === undefined) throw new Error('a comma-separated list of CIDRs, e.g. 10.0.0.0/8,fd00::/8');
      return list;
    },
  }),
  httpsOnly: def({
    env: 'HOOKYARD_HTTPS_ONLY',
    flag: 'https-only',
    default: 'false',
    accepts: 'true or false',
    description: 'Refuse endpoints whose URL is plain http.',
    parse: boolean,
  }),
  signatureHeaders: def({
    env: 'HOOKYARD_SIGNATURE_HEADERS',
    flag: 'signature-headers',
    default: 'webhook',
    accepts: 'webhook, svix or both',
    description: 'Send `webhook-*` (Standard Webhooks) headers, `svix-*` headers, or both.',
    parse: oneOf(['webhook', 'svix', 'both'] as const),
  }),
  defaultSignatureType: def({
    env: 'HOOKYARD_DEFAULT_SIGNATURE_TYPE',
    flag: 'default-signature-type',
    default: 'hmac256',
    accepts: 'hmac256 or ed25519',
    description:
      "The key a new endpoint gets when it names no secret: an HMAC-SHA256 `whsec_` secret (`v1` signatures) or an ed25519 `whsk_` signing key (`v1a`), as Svix's `default_signature_type`.",
    parse: oneOf(['hmac256', 'ed25519'] as const),
  }),
  egressProxy: def({
    env: 'HOOKYARD_EGRESS_PROXY',
    flag: 'egress-proxy',
    default: '',
    accepts: 'empty (direct) or an http:// or https:// proxy URL',
    description:
      "Send every delivery through this HTTP proxy (a CONNECT tunnel per receiver origin), as Svix's `proxy_config`; an endpoint's `egress.proxy` overrides it (another proxy, or `direct`). The address guard still checks the receiver before the CONNECT (a literal address, or every address Hookyard resolves for its name; a name Hookyard cannot resolve is left to the proxy's rules), not this proxy's own address.",
    secret: true,
    parse: proxyUrl,
  }),
  encryptionKey: def({
    env: 'HOOKYARD_ENCRYPTION_KEY',
    flag: 'encryption-key',
    default: '',
    accepts:
      'empty (stored in plaintext), or a 32-byte key as base64 or hex (`openssl rand -base64 32`), optionally followed by older keys after commas',
    description:
      'Encrypts endpoint and destination signing secrets, destination configs, client keys and proxy URLs in the database (AES-256-GCM). The first key encrypts, later ones only decrypt (a rotation: `hookyard reencrypt` rewrites every row with the first). Start-up stops when the database holds values encrypted with a key not listed (docs/destinations.md).',
    secret: true,
    parse: (raw) => {
      const keys = parseKeyList(raw);
      if (keys === undefined)
        throw new Error(
          'empty, or distinct 32-byte keys separated by commas, each as base64 (44 characters) or hex (64 characters)',
        );
      return keys;
    },
  }),
  ingestBatchWindow: def({
    env: 'HOOKYARD_INGEST_BATCH_WINDOW',
    flag: 'ingest-batch-window',
    default: '0ms',
    accepts: 'a duration from 0ms to 100ms',
    description:
      'Extra time ingest waits to group more messages into one durable commit (0 = group what arrived meanwhile).',
    parse: duration(0, 100),
  }),
  leaseDuration: def({
    env: 'HOOKYARD_LEASE_DURATION',
    flag: 'lease-duration',
    default: '60s',
    accepts: 'a duration from 5s to 1h',
    description:
      'How long a claimed delivery stays reserved for its worker; a task whose worker died is retried after this.',
    parse: duration(5_000, 3_600_000),
  }),
  endpointConcurrency: def({
    env: 'HOOKYARD_ENDPOINT_CONCURRENCY',
    flag: 'endpoint-concurrency',
    default: '',
    accepts: 'empty (half of HOOKYARD_DELIVERY_CONCURRENCY) or an integer from 1 to 10000',
    description:
      'Requests in flight at once to one endpoint per worker process, so a slow or hanging endpoint cannot take every delivery slot. Empty means half of HOOKYARD_DELIVERY_CONCURRENCY.',
    // 0 stands for "half of deliveryConcurrency", resolved by the dispatcher, which knows both.
    parse: (raw) => (raw.trim() === '' ? 0 : integer(1, 10_000)(raw)),
  }),
  disableAfter: def({
    env: 'HOOKYARD_DISABLE_AFTER',
    flag: 'disable-after',
    default: '5d',
    accepts: 'a duration from 1m to 365d',
    description:
      'An endpoint whose every attempt has failed for this long is disabled (a 410 Gone disables it at once).',
    parse: duration(60_000, 365 * 86_400_000),
  }),
  circuitThreshold: def({
    env: 'HOOKYARD_CIRCUIT_THRESHOLD',
    flag: 'circuit-threshold',
    default: '5',
    accepts: 'an integer from 1 to 1000',
    description:
      "Consecutive attempts that find an endpoint's host down (refused, unresolvable, timed out) before its circuit opens and its deliveries wait for a probe.",
    parse: integer(1, 1000),
  }),
  circuitProbeInterval: def({
    env: 'HOOKYARD_CIRCUIT_PROBE_INTERVAL',
    flag: 'circuit-probe-interval',
    default: '30s',
    accepts: 'a duration from 100ms to 1h',
    description: 'While a circuit is open, one delivery probes the endpoint this often.',
    parse: duration(100, 3_600_000),
  }),
  backpressurePause: def({
    env: 'HOOKYARD_BACKPRESSURE_PAUSE',
    flag: 'backpressure-pause',
    default: '60s',
    accepts: 'a duration from 1s to 1h',
    description: 'How long a 429, 502, 503 or 504 without a Retry-After pauses deliveries to that endpoint.',
    parse: duration(1_000, 3_600_000),
  }),
  backpressureMaxPause: def({
    env: 'HOOKYARD_BACKPRESSURE_MAX_PAUSE',
    flag: 'backpressure-max-pause',
    default: '1h',
    accepts: 'a duration from 1s to 24h',
    description: "The longest pause a receiver's Retry-After can ask for.",
    parse: duration(1_000, 86_400_000),
  }),
  publicUrl: def({
    env: 'HOOKYARD_PUBLIC_URL',
    flag: 'public-url',
    default: '',
    accepts: 'empty or an http(s) URL',
    description: 'Base URL of this server as users reach it, used in app-portal links.',
    parse: (raw) => {
      const value = raw.trim();
      if (value && !/^https?:\/\//.test(value)) throw new Error('empty or an http(s) URL');
      return value.replace(/\/+$/, '');
    },
  }),
  operationalWebhookUrl: def({
    env: 'HOOKYARD_OPERATIONAL_WEBHOOK_URL',
    flag: 'operational-webhook-url',
    default: '',
    accepts: 'empty (off) or an http(s) URL',
    description:
      "Where Hookyard sends its own signed events (endpoint.created, endpoint.disabled, message.attempt.exhausted, …); it must pass the address guard like any endpoint's.",
    parse: (raw) => {
      const value = raw.trim();
      if (value === '') return value;
      // The address rules need HOOKYARD_ALLOWED_SUBNETS: the operational sink applies them at start-up.
      if (!parseEndpointUrl(value).ok) throw new Error('empty (off) or an http(s) URL');
      return value;
    },
  }),
  operationalWebhookSecret: def({
    env: 'HOOKYARD_OPERATIONAL_WEBHOOK_SECRET',
    flag: 'operational-webhook-secret',
    default: '',
    accepts: 'a whsec_ secret (base64 of at least 24 bytes), or empty when no operational URL is set',
    description:
      'The secret operational webhooks are signed with (Standard Webhooks); required with the URL.',
    secret: true,
    parse: (raw) => {
      const value = raw.trim();
      if (value === '') return value;
      const result = normaliseSecret(value);
      if (!result.ok || !result.secret.startsWith(SECRET_PREFIX))
        throw new Error('a whsec_ secret: whsec_ and base64 of at least 24 bytes');
      return result.secret;
    },
  }),
  responseRetention: def({
    env: 'HOOKYARD_RESPONSE_RETENTION',
    flag: 'response-retention',
    default: '30d',
    accepts: 'a duration from 1h to 3650d',
    description:
      "How long the receiver's response body is kept with each attempt; older ones are emptied in the background.",
    parse: duration(3_600_000, 3650 * 86_400_000),
  }),
  messageRetention: def({
    env: 'HOOKYARD_MESSAGE_RETENTION',
    flag: 'message-retention',
    default: 'off',
    accepts: 'off, or a duration from 1d to 3650d',
    description:
      'How long messages are kept, with their deliveries and attempts; older ones are deleted in the background (on PostgreSQL by dropping whole time partitions). off keeps them; their payloads and response bodies still expire.',
    parse: (raw) => {
      if (raw.trim().toLowerCase() === 'off') return null;
      const ms = parseDuration(raw);
      if (ms === undefined || ms < 86_400_000 || ms > 3650 * 86_400_000)
        throw new Error('off, or a duration from 1d to 3650d');
      return ms;
    },
  }),
  dashboard: def({
    env: 'HOOKYARD_DASHBOARD',
    flag: 'dashboard',
    default: 'on',
    accepts: 'on, off or dev',
    description:
      'The operator dashboard under /ui (roles all and api). dev serves it through Vite with hot module replacement (npm run dev; needs the dev dependencies).',
    parse: oneOf(['on', 'off', 'dev'] as const),
  }),
  corsOrigins: def({
    env: 'HOOKYARD_CORS_ORIGINS',
    flag: 'cors-origins',
    default: '*',
    accepts: '*, empty (no CORS) or a comma-separated list of origins (https://app.example.com)',
    description:
      'Browser origins whose pages may call the API with a bearer token (the Svix JS SDK, svix-react). Cookies are never accepted cross-origin.',
    parse: originList,
  }),
  portalFrameAncestors: def({
    env: 'HOOKYARD_PORTAL_FRAME_ANCESTORS',
    flag: 'portal-frame-ancestors',
    default: '*',
    accepts: '*, or a space- or comma-separated list of origins allowed to embed /portal in a frame',
    description:
      'Which sites may embed the App Portal (CSP frame-ancestors of /portal only; the dashboard is never framed).',
    parse: originList,
  }),
  statsRetention: def({
    env: 'HOOKYARD_STATS_RETENTION',
    flag: 'stats-retention',
    default: '90d',
    accepts: 'a duration from 1h to 3650d',
    description:
      'How long the per-minute delivery statistics (dashboard charts, /api/v1/stats, the success count of the endpoint stats) are kept; older minutes are deleted in the background.',
    parse: duration(3_600_000, 3650 * 86_400_000),
  }),
} as const;

/**
 * How long a message's payload is kept when its request does not say (`payloadRetentionPeriod`;
 * Svix's default); the purger expunges it afterwards.
 */
export const DEFAULT_PAYLOAD_RETENTION_DAYS = 90;
export const DEFAULT_PAYLOAD_RETENTION_MS = DEFAULT_PAYLOAD_RETENTION_DAYS * 86_400_000;

export type SettingName = keyof typeof settings;
export type Config = {
  readonly [K in SettingName]: ReturnType<(typeof settings)[K]['parse']>;
};
