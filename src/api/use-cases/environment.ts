import type { Static } from 'typebox';
import { headerProblem } from '../../domain/endpoint-headers.ts';
import { newId } from '../../domain/ids.ts';
import { ApiError } from '../../errors/api-error.ts';
import { OPERATIONAL_APP_UID } from '../../operational/internal-app.ts';
import { generateSecret, generateSigningKeyPair, normaliseSecret } from '../../signing/keys.ts';
import type {
  ApplicationRecord,
  EndpointEgress,
  EndpointRecord,
  EventTypeRecord,
  Page,
  PageQuery,
} from '../../storage/contract.ts';
import { type ApiContext, assertEndpointUrl, assertUid } from '../context.ts';
import type { EnvironmentIn, HookyardEnvironment } from '../schemas.ts';
import { eventTypeOut, iso } from '../serialize.ts';
import { DIRECT, type EgressInput, egressFrom, withEgress } from './egress.ts';
import { assertEventTypeSchemas } from './event-type-schemas.ts';
import { filterOf } from './payload-filter.ts';

/**
 * Svix's environment export/import, extended to move a whole tenant between servers: the Svix shape
 * (`eventTypes`, `settings`, `connectors`) carries Hookyard's applications and endpoints under
 * `settings.hookyard`, since the Svix SDKs pass `settings` through untouched while they drop unknown
 * top-level fields. Endpoint secrets, headers and egress settings (which hold credentials: a client key,
 * a proxy's password) are exported only when asked for; without them an imported endpoint gets a new
 * secret and keeps the egress it has. Import adds and updates, never
 * deletes: applications and endpoints are matched by uid, event types by name.
 */
type Hookyard = Static<typeof HookyardEnvironment>;

async function all<T>(list: (page: PageQuery) => Promise<Page<T>>, keyOf: (item: T) => string): Promise<T[]> {
  const out: T[] = [];
  let iterator: string | undefined;
  for (;;) {
    const page = await list({ limit: 250, iterator });
    out.push(...page.data);
    const last = page.data.at(-1);
    if (page.done || last === undefined) return out;
    iterator = keyOf(last);
  }
}

export async function exportEnvironment(ctx: ApiContext, withSecrets: boolean) {
  const eventTypes = await all(
    (page) => ctx.storage.eventTypes.list(page, { includeArchived: true }),
    (item: EventTypeRecord) => item.name,
  );
  const apps = await all(
    (page) => ctx.storage.applications.list(page, { excludeUid: OPERATIONAL_APP_UID }),
    (item: ApplicationRecord) => item.id,
  );
  const applications: Hookyard['applications'] = [];
  for (const app of apps.reverse()) {
    // Destinations are not part of the export yet (docs/destinations.md): only HTTP endpoints.
    const endpoints = (await ctx.storage.endpoints.listAll(app.id))
      .filter((endpoint) => !endpoint.destination)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    applications.push({
      uid: app.uid,
      name: app.name,
      rateLimit: app.throttleRate,
      metadata: app.metadata,
      endpoints: endpoints.map((endpoint) => ({
        uid: endpoint.uid,
        url: endpoint.url,
        description: endpoint.description,
        disabled: endpoint.disabled,
        eventTypes: endpoint.eventTypes,
        channels: endpoint.channels,
        rateLimit: endpoint.throttleRate,
        metadata: endpoint.metadata,
        filter: endpoint.filter ?? null,
        ...(withSecrets
          ? {
              headers: endpoint.headers,
              secret: endpoint.secrets[0]?.key ?? null,
              egress: egressIn(endpoint.egress),
            }
          : {}),
      })),
    });
  }
  return {
    version: 1,
    createdAt: iso(ctx.clock()),
    eventTypes: eventTypes.map((item) => eventTypeOut(item)),
    settings: { hookyard: { version: 1, applications } },
    connectors: [],
  };
}

/** Stored egress settings in the shape create and import take them (credentials included). */
function egressIn(egress: EndpointEgress | undefined): EgressInput | null {
  if (!egress) return null;
  const { proxy } = egress;
  return {
    clientCertificate: egress.clientCertificate,
    clientKey: egress.clientKey,
    caBundle: egress.caBundle,
    proxy: proxy.kind === 'proxy' ? proxy.url : proxy.kind === 'direct' ? DIRECT : null,
  };
}

/** A body check reused on a value nested in the document: its errors point into the document. */
function at<T>(loc: (string | number)[], check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof ApiError ? error.under(loc) : error;
  }
}

function secretOf(given: string | null | undefined, loc: (string | number)[], ctx: ApiContext): string {
  if (given == null)
    return ctx.config.defaultSignatureType === 'ed25519'
      ? generateSigningKeyPair().secretKey
      : generateSecret();
  const result = normaliseSecret(given);
  if (!result.ok) throw ApiError.validation(loc, result.reason);
  return result.secret;
}

export async function importEnvironment(ctx: ApiContext, body: Static<typeof EnvironmentIn>): Promise<void> {
  const now = ctx.clock();
  for (const item of body.eventTypes ?? []) {
    assertEventTypeSchemas(item.schemas as Record<string, unknown> | null | undefined);
    const fields = {
      description: item.description,
      archived: item.archived ?? false,
      deprecated: item.deprecated ?? false,
      featureFlag: item.featureFlag ?? null,
      schemas: (item.schemas as Record<string, unknown> | null | undefined) ?? null,
    };
    const current = await ctx.storage.eventTypes.get(item.name);
    if (current) await ctx.storage.eventTypes.update({ ...current, ...fields, updatedAt: now });
    else await ctx.storage.eventTypes.create({ name: item.name, ...fields, createdAt: now, updatedAt: now });
  }
  const hookyard = (body.settings as { hookyard?: Hookyard } | null | undefined)?.hookyard;
  for (const [a, app] of (hookyard?.applications ?? []).entries()) {
    if (app.uid === OPERATIONAL_APP_UID) continue;
    assertUid('application', app.uid, ['body', 'settings', 'hookyard', 'applications', a, 'uid']);
    const existing = app.uid ? await ctx.storage.applications.get(app.uid) : undefined;
    const record: ApplicationRecord = {
      id: existing?.id ?? newId('application', now),
      uid: app.uid ?? null,
      name: app.name,
      throttleRate: app.rateLimit ?? null,
      metadata: app.metadata ?? {},
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    const stored = existing
      ? await ctx.storage.applications.update(record)
      : await ctx.storage.applications.create(record);
    if (!stored) throw ApiError.notFound('Application');
    for (const [e, endpoint] of (app.endpoints ?? []).entries()) {
      const loc = ['body', 'settings', 'hookyard', 'applications', String(a), 'endpoints', String(e)];
      assertUid('endpoint', endpoint.uid, [...loc, 'uid']);
      const url = assertEndpointUrl(ctx, endpoint.url, [...loc, 'url']);
      const headers = endpoint.headers ?? {};
      for (const [name, value] of Object.entries(headers)) {
        const problem = headerProblem(name, value);
        if (problem) throw ApiError.validation([...loc, 'headers', name], `header ${name} ${problem}`);
      }
      const current = endpoint.uid ? await ctx.storage.endpoints.get(stored.id, endpoint.uid) : undefined;
      if (current?.destination)
        throw ApiError.validation(
          [...loc, 'uid'],
          `uid ${endpoint.uid} belongs to a ${current.destination.type} destination of this application; give the endpoint another uid or delete the destination first`,
        );
      const next: EndpointRecord = {
        id: current?.id ?? newId('endpoint', now),
        appId: stored.id,
        uid: endpoint.uid ?? null,
        url,
        description: endpoint.description ?? '',
        disabled: endpoint.disabled ?? false,
        eventTypes: endpoint.eventTypes?.length ? endpoint.eventTypes : null,
        channels: endpoint.channels?.length ? endpoint.channels : null,
        throttleRate: endpoint.rateLimit ?? null,
        metadata: endpoint.metadata ?? {},
        // Absent fields keep what the current endpoint has, as a PUT of the endpoint routes does.
        filter:
          endpoint.filter === undefined
            ? (current?.filter ?? null)
            : at(loc, () => filterOf(endpoint.filter as object | null)),
        ...withEgress(at(loc, () => egressFrom(endpoint.egress, current?.egress, ctx.guard))),
        headers: endpoint.headers ?? current?.headers ?? {},
        // A current endpoint keeps its keys unless the document carries one.
        secrets:
          endpoint.secret == null && current
            ? current.secrets
            : [{ key: secretOf(endpoint.secret, [...loc, 'secret'], ctx), expiresAt: null }],
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
      };
      if (current) await ctx.storage.endpoints.update(next);
      else await ctx.storage.endpoints.create(next);
    }
  }
}
