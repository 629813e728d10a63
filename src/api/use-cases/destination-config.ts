import { apiFieldOf, brokerDestinationOf } from '../../delivery/broker-destination.ts';
import { checkBrokerDestination } from '../../delivery/brokers/broker-config.ts';
import { ApiError } from '../../errors/api-error.ts';

/**
 * Each destination type's config as the Destination API takes it: the fields it accepts, the checks it
 * must pass when saved (a 422 naming the field), the address stored in the endpoint row's `url`, and
 * what the API shows of it (never a password). Svix's own types keep Svix's field names (`rabbitMq`:
 * `uri`, `routingKey`; `postgres`: `url`, `password`, `tableName`); Hookyard's take the same shape.
 */
interface Field {
  readonly kind: 'string' | 'url' | 'positiveInteger';
  readonly required: boolean;
  /** URL schemes accepted (kind 'url'). */
  readonly schemes?: readonly string[];
  /** Never shown by the API. */
  readonly secret?: boolean;
}

const str = (required: boolean, secret = false): Field => ({ kind: 'string', required, secret });
const url = (...schemes: string[]): Field => ({ kind: 'url', required: true, schemes });

const FIELDS: Readonly<Record<string, Readonly<Record<string, Field>>>> = {
  // Its `headers` and `key` (FifoEndpointConfigIn) become the endpoint row's headers and secret.
  fifoEndpoint: { url: url('http', 'https') },
  rabbitMq: { uri: url('amqp', 'amqps'), routingKey: str(true), exchange: str(false) },
  postgres: { url: url('postgres', 'postgresql'), password: str(false, true), tableName: str(true) },
  natsJetStream: { url: url('nats'), subject: str(true) },
  redisStream: {
    url: url('redis', 'rediss'),
    stream: str(true),
    maxLen: { kind: 'positiveInteger', required: false },
  },
  mqtt: { url: url('mqtt', 'mqtts'), topic: str(true) },
  // Nothing is pushed to a polling endpoint, so it has no config (as in Svix); consumers pull.
  pollingEndpoint: {},
};

/** The types whose destinations receive nothing by push: fan-out makes no deliveries for them. */
export const PULL_TYPES: readonly string[] = ['pollingEndpoint'];

/** Whether messages are pushed to this endpoint row (an HTTP endpoint, or a destination of a push type). */
export function isPushed(endpoint: { destination?: { type: string } | undefined }): boolean {
  return !endpoint.destination || !PULL_TYPES.includes(endpoint.destination.type);
}

/**
 * The config a request gives, or `{}` for a type that has none; a push type without a config is a 422
 * at `body.config`, as a missing required field is.
 */
export function configOf(type: string, given: Record<string, unknown> | undefined): Record<string, unknown> {
  if (given !== undefined) return given;
  if (FIELDS[type] && Object.keys(FIELDS[type]).length === 0) return {};
  throw ApiError.validation(['body', 'config'], `a ${type} destination needs its config`, 'missing');
}

/** The field of each type's config that holds its address. */
const ADDRESS_FIELD: Readonly<Record<string, string>> = { rabbitMq: 'uri' };

/** Checks `config` for `type`; throws a 422 at `body.config.<field>` naming what to fix. */
export function checkDestinationConfig(type: string, config: Record<string, unknown>): void {
  const fields = FIELDS[type];
  if (!fields) throw ApiError.validation(['body', 'type'], `unknown destination type ${type}`);
  for (const name of Object.keys(config)) {
    if (!(name in fields)) {
      throw ApiError.validation(
        ['body', 'config', name],
        `${type} has no config field ${name}; its fields are ${Object.keys(fields).join(', ')}`,
      );
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    const value = config[name];
    const loc = ['body', 'config', name];
    if (value === undefined || value === null) {
      if (field.required) throw ApiError.validation(loc, `${type} needs config.${name}`, 'missing');
      continue;
    }
    if (field.kind === 'positiveInteger') {
      if (!Number.isSafeInteger(value) || (value as number) < 1)
        throw ApiError.validation(loc, `config.${name} must be a positive integer`);
      continue;
    }
    if (typeof value !== 'string' || value === '')
      throw ApiError.validation(loc, `config.${name} must be a non-empty string`);
    if (value.length > 2048) throw ApiError.validation(loc, `config.${name} is longer than 2048 characters`);
    if (field.kind === 'url') {
      const parsed = URL.parse(value);
      const schemes = field.schemes ?? [];
      if (!parsed || !schemes.includes(parsed.protocol.slice(0, -1)))
        throw ApiError.validation(
          loc,
          `config.${name} must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
        );
      if (parsed.hostname === '') throw ApiError.validation(loc, `config.${name} has no host`);
    }
  }
  // The publisher's own checks (subject and topic syntax, table names, a Redis database number).
  const destination = brokerDestinationOf({ type, config });
  const issue = destination && checkBrokerDestination(destination)[0];
  if (issue) {
    const field = issue.path[0];
    throw ApiError.validation(
      field === undefined ? ['body', 'config'] : ['body', 'config', apiFieldOf(type, field)],
      field === undefined ? issue.message : issue.message.replace(field, `config.${apiFieldOf(type, field)}`),
    );
  }
}

/** The destination's address without credentials: the endpoint row's `url`, and what attempts record. */
export function destinationAddress(type: string, config: Record<string, unknown>): string {
  // A pull type has no address; the row's url names the type, and no attempt ever records it.
  if (PULL_TYPES.includes(type)) return `${type}:`;
  return withoutCredentials(String(config[ADDRESS_FIELD[type] ?? 'url']));
}

/**
 * The config as the API shows it: passwords (and a URL's credentials) left out. `rabbitMq` shows only
 * its routing key and exchange, as Svix does, since its `uri` carries the credentials.
 */
export function configOut(type: string, config: Record<string, unknown>): Record<string, unknown> {
  const fields = FIELDS[type] ?? {};
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    const field = fields[name];
    if (!field || field.secret || value === undefined || value === null) continue;
    if (type === 'rabbitMq' && name === 'uri') continue;
    shown[name] = field.kind === 'url' ? withoutCredentials(String(value)) : value;
  }
  return shown;
}

function withoutCredentials(raw: string): string {
  const parsed = URL.parse(raw);
  if (!parsed) return '';
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
