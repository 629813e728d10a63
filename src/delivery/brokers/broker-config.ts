/**
 * The config of each broker and database destination type, and the checks it must pass, with no
 * client library loaded: the Destination API checks a config when it is saved (422 naming the
 * field), and each publisher checks it again before using it (a permanent failure).
 */

/** Svix's `rabbitMq` destination config, plus an optional exchange (default: the default exchange). */
export interface RabbitMqConfig {
  /** `amqp://user:pass@host:5672/vhost` or `amqps://...`. */
  readonly uri: string;
  readonly routingKey: string;
  /** Absent or '': the default exchange, where the routing key names the queue. */
  readonly exchange?: string;
}

/** Hookyard's `natsJetStream` destination: publish to a subject a JetStream stream captures. */
export interface NatsJetStreamConfig {
  /** `nats://[user:pass@|token@]host:4222`. */
  readonly url: string;
  readonly subject: string;
}

/** Hookyard's `redisStream` destination: one stream entry per message. */
export interface RedisStreamConfig {
  /** `redis://[user:pass@]host:6379[/db]` or `rediss://...`. */
  readonly url: string;
  readonly stream: string;
  /** Trims the stream to about this many entries (`MAXLEN ~`); absent = never trimmed. */
  readonly maxLen?: number;
}

/** Hookyard's `mqtt` destination: a QoS 1 publish to one topic. */
export interface MqttConfig {
  /** `mqtt://[user:pass@]host:1883` or `mqtts://...:8883`. */
  readonly url: string;
  readonly topic: string;
}

/** The `postgres` destination: one row per message in a table of the user's own database. */
export interface PostgresTableConfig {
  /** `postgres://user:pass@host:5432/db[?sslmode=require|verify-full]`. */
  readonly url: string;
  /** `table` or `schema.table`; it must exist with the columns docs/destinations.md lists. */
  readonly table: string;
}

/** A broker or database destination as the Destination API stores it: its type and config. */
export type BrokerDestination =
  | { readonly type: 'rabbitMq'; readonly config: RabbitMqConfig }
  | { readonly type: 'natsJetStream'; readonly config: NatsJetStreamConfig }
  | { readonly type: 'redisStream'; readonly config: RedisStreamConfig }
  | { readonly type: 'mqtt'; readonly config: MqttConfig }
  | { readonly type: 'postgres'; readonly config: PostgresTableConfig };

export type BrokerType = BrokerDestination['type'];

export const BROKER_TYPES: readonly BrokerType[] = [
  'rabbitMq',
  'natsJetStream',
  'redisStream',
  'mqtt',
  'postgres',
];

/** One mistake in a config: the field (within `config`) and what to fix. */
export interface ConfigIssue {
  readonly path: readonly string[];
  readonly message: string;
}

/** A config the publisher cannot use (bad URL, missing field): repeating will not help. */
export class BrokerConfigError extends Error {
  override name = 'BrokerConfigError';
}

/** Throws a BrokerConfigError with the first issue, if any. */
export function assertConfig(issues: readonly ConfigIssue[]): void {
  const first = issues[0];
  if (first) throw new BrokerConfigError(first.message);
}

/** Parses a broker URL, accepting only the given schemes; a BrokerConfigError names what is wrong. */
export function parseBrokerUrl(raw: unknown, field: string, schemes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new BrokerConfigError(`${field} is not a valid URL`);
  }
  if (typeof raw !== 'string') throw new BrokerConfigError(`${field} is required`);
  if (!schemes.includes(url.protocol.slice(0, -1))) {
    throw new BrokerConfigError(`${field} must use ${schemes.map((s) => `${s}://`).join(' or ')}`);
  }
  if (url.hostname === '') throw new BrokerConfigError(`${field} has no host`);
  return url;
}

function urlIssues(raw: unknown, field: string, schemes: readonly string[]): ConfigIssue[] {
  try {
    parseBrokerUrl(raw, field, schemes);
    return [];
  } catch (error) {
    return [{ path: [field], message: (error as Error).message }];
  }
}

/** AMQP short strings (exchange, routing key) are at most 255 bytes. */
const SHORT_STRING = 255;
const NATS_SUBJECT = /^[^\s*>]+$/;
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export function checkRabbitMqConfig(config: RabbitMqConfig): ConfigIssue[] {
  const issues = urlIssues(config.uri, 'uri', ['amqp', 'amqps']);
  if (typeof config.routingKey !== 'string' || Buffer.byteLength(config.routingKey) > SHORT_STRING) {
    issues.push({ path: ['routingKey'], message: `routingKey is required, at most ${SHORT_STRING} bytes` });
  }
  if (
    config.exchange !== undefined &&
    (typeof config.exchange !== 'string' || Buffer.byteLength(config.exchange) > SHORT_STRING)
  ) {
    issues.push({ path: ['exchange'], message: `exchange must be a name of at most ${SHORT_STRING} bytes` });
  }
  return issues;
}

export function checkNatsJetStreamConfig(config: NatsJetStreamConfig): ConfigIssue[] {
  const issues = urlIssues(config.url, 'url', ['nats']);
  if (typeof config.subject !== 'string' || !NATS_SUBJECT.test(config.subject)) {
    issues.push({ path: ['subject'], message: 'subject must be a NATS subject without spaces or wildcards' });
  }
  return issues;
}

export function checkRedisStreamConfig(config: RedisStreamConfig): ConfigIssue[] {
  const issues = urlIssues(config.url, 'url', ['redis', 'rediss']);
  if (issues.length === 0) {
    const path = new URL(config.url).pathname;
    if (path.length > 1 && !/^\/\d{1,5}$/.test(path)) {
      issues.push({
        path: ['url'],
        message: 'url may name a database only by its number, as in redis://host:6379/0',
      });
    }
  }
  if (typeof config.stream !== 'string' || config.stream === '') {
    issues.push({ path: ['stream'], message: 'stream is required' });
  }
  if (config.maxLen !== undefined && !(Number.isSafeInteger(config.maxLen) && config.maxLen > 0)) {
    issues.push({ path: ['maxLen'], message: 'maxLen must be a positive integer' });
  }
  return issues;
}

export function checkMqttConfig(config: MqttConfig): ConfigIssue[] {
  const issues = urlIssues(config.url, 'url', ['mqtt', 'mqtts']);
  if (typeof config.topic !== 'string' || config.topic === '' || /[#+]/.test(config.topic)) {
    issues.push({ path: ['topic'], message: 'topic must be a non-empty MQTT topic without wildcards' });
  }
  return issues;
}

export function checkPostgresTableConfig(config: PostgresTableConfig): ConfigIssue[] {
  const issues = urlIssues(config.url, 'url', ['postgres', 'postgresql']);
  const parts = typeof config.table === 'string' ? config.table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => SQL_IDENTIFIER.test(part))) {
    issues.push({
      path: ['table'],
      message: 'table must be a table name or schema.table (letters, digits, _ and $)',
    });
  }
  return issues;
}

/** `"schema"."table"` for a table name checkPostgresTableConfig accepted. */
export function quoteTable(table: string): string {
  assertConfig(checkPostgresTableConfig({ url: 'postgres://checked', table }));
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/** Every mistake in a broker destination's config, each naming its field; empty when usable. */
export function checkBrokerDestination(destination: {
  readonly type: string;
  readonly config: unknown;
}): ConfigIssue[] {
  const config = destination.config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return [{ path: [], message: 'config must be an object' }];
  }
  switch (destination.type as BrokerType) {
    case 'rabbitMq':
      return checkRabbitMqConfig(config as RabbitMqConfig);
    case 'natsJetStream':
      return checkNatsJetStreamConfig(config as NatsJetStreamConfig);
    case 'redisStream':
      return checkRedisStreamConfig(config as RedisStreamConfig);
    case 'mqtt':
      return checkMqttConfig(config as MqttConfig);
    case 'postgres':
      return checkPostgresTableConfig(config as PostgresTableConfig);
    default:
      return [
        {
          path: [],
          message: `unknown destination type ${destination.type}; use one of ${BROKER_TYPES.join(', ')}`,
        },
      ];
  }
}
