import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/settings.ts';
import { type AddressGuard, createAddressGuard } from '../domain/address-rules.ts';
import { checkEndpointUrl, parseEndpointUrl } from '../domain/endpoint-url.ts';
import { type IdKind, idPrefixes } from '../domain/ids.ts';
import { ApiError } from '../errors/api-error.ts';
import type { Logger } from '../log/logger.ts';
import type { OperationalSink } from '../operational/events.ts';
import { isOperationalApp } from '../operational/internal-app.ts';
import type { ApplicationRecord, EndpointRecord, MessageRecord, Storage } from '../storage/contract.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { assertAppAccess, type PortalKeys, type PortalTokens } from './auth.ts';
import { type BackgroundTasks, createBackgroundTasks } from './use-cases/background-tasks.ts';

/** The subset of the endpoint cache the API uses (fan-out reads, and the application a message names). */
export interface EndpointSource {
  forApp(appId: string): Promise<EndpointRecord[]>;
  application?(idOrUid: string): Promise<ApplicationRecord | undefined>;
}

/** Everything a route plugin needs, built once by buildApp. */
export interface ApiContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly endpoints: EndpointSource;
  readonly portal: PortalTokens;
  /** The one-time keys of portal links. */
  readonly portalKeys: PortalKeys;
  readonly guard: AddressGuard;
  /** Where endpoint.created/updated/deleted go (operational webhooks). */
  readonly operational: OperationalSink;
  /** OpenTelemetry tracing when it is on (tracing/); undefined costs ingest nothing. */
  readonly tracing?: Tracing | undefined;
  readonly tasks: BackgroundTasks;
}

export function createContext(deps: Omit<ApiContext, 'guard' | 'tasks'>): ApiContext {
  return {
    ...deps,
    guard: createAddressGuard(deps.config.allowedSubnets),
    tasks: createBackgroundTasks(deps.storage, deps.logger, deps.clock),
  };
}

/**
 * Loads the application named in the path (id or uid). A portal token of another application gets 404
 * whether or not the application exists, so tokens cannot probe for other applications. Any method
 * but GET/HEAD on Hookyard's own operational application is refused.
 */
export async function loadApp(
  ctx: ApiContext,
  request: FastifyRequest,
  idOrUid: string,
): Promise<ApplicationRecord> {
  const app = await ctx.storage.applications.get(idOrUid);
  assertAppAccess(request.principal, app?.id);
  if (!app) throw ApiError.notFound('Application');
  if (request.method !== 'GET' && request.method !== 'HEAD') assertNotReserved(app.uid);
  return app;
}

/** Refuses a write to, or a new application under, the uid reserved for operational webhooks. */
export function assertNotReserved(uid: string | null | undefined): void {
  if (uid !== undefined && isOperationalApp({ uid })) throw new ApiError('reserved_application');
}

export async function loadEndpoint(
  ctx: ApiContext,
  app: ApplicationRecord,
  idOrUid: string,
): Promise<EndpointRecord> {
  const endpoint = await ctx.storage.endpoints.get(app.id, idOrUid);
  // A destination of the Destination API is an endpoint row too, but not an endpoint to the Svix API.
  if (!endpoint || endpoint.destination) throw ApiError.notFound('Endpoint');
  return endpoint;
}

export async function loadMessage(
  ctx: ApiContext,
  app: ApplicationRecord,
  idOrUid: string,
): Promise<MessageRecord> {
  const message = await ctx.storage.messages.get(app.id, idOrUid);
  if (!message) throw ApiError.notFound('Message');
  return message;
}

/**
 * A malformed URL is a validation error on `loc`; a well-formed one the address guard refuses is
 * `url_not_allowed` with the guard's reason.
 */
export function assertEndpointUrl(ctx: ApiContext, raw: string, loc: string[]): string {
  const shape = parseEndpointUrl(raw);
  if (!shape.ok) throw ApiError.validation(loc, shape.reason, shape.code);
  const verdict = checkEndpointUrl(raw, ctx.config, ctx.guard);
  if (!verdict.ok)
    throw new ApiError('url_not_allowed', `The endpoint URL is not allowed: ${verdict.reason}.`);
  return raw;
}

/** `Date.parse` of a value the schema already checked as `date-time`. */
export function parseTime(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A uid may not start with the prefix of the ids of its kind (`app_`, `ep_`, `msg_`), as in Svix: a
 * path segment is looked up as an id or a uid, and such a uid could be mistaken for an id.
 */
export function assertUid(kind: IdKind, uid: string | null | undefined, loc: (string | number)[]): void {
  if (typeof uid === 'string' && uid.startsWith(idPrefixes[kind]))
    throw ApiError.validation(
      loc,
      `uids may not start with ${idPrefixes[kind]}, the prefix of ids; prefix the uid with _ or choose another`,
      'invalid_uid_prefix',
    );
}

/**
 * An application created alongside a message or a portal token takes the uid of the path; a different
 * uid in the body is a 422, as in Svix (the path would name an application the request does not
 * create). Svix also refuses a body without uid; Hookyard takes the path's (docs/api.md).
 */
export function assertCreatedAppUid(pathIdOrUid: string, uid: string | null | undefined): void {
  if (uid !== undefined && uid !== null && uid !== pathIdOrUid)
    throw ApiError.validation(
      ['body', 'application', 'uid'],
      `application.uid (${uid}) must match the uid in the path (${pathIdOrUid})`,
      'application_uid_mismatch',
    );
}

/**
 * An `after` filter is inclusive, as in Svix (items created at that very millisecond are listed); the
 * store's `after` bound is exclusive, hence the millisecond before.
 */
export function parseAfter(value: string | null | undefined): number | undefined {
  const ms = parseTime(value);
  return ms === undefined ? undefined : ms - 1;
}
