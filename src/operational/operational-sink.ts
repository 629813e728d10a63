/**
 * The operational-webhook sender. Rather than a second delivery path, each event becomes a message of
 * an internal application (`hookyard.operational`) whose endpoints are the operator's receivers: so an
 * event is on disk before `emit` resolves, and is delivered, retried, recorded as attempts and
 * visible through the API exactly like any other message.
 *
 * The endpoints are managed through `/api/v1/operational-webhook/endpoint` (any number, each with its
 * own event-type filter, secret and headers). `HOOKYARD_OPERATIONAL_WEBHOOK_URL` seeds one more,
 * `hookyard.operational`: start() brings it in line with the settings (URL, secret, enabled), and with
 * no URL set disables it so nothing queued for it earlier is sent anywhere. Processes of a fleet
 * starting together may race to create them: the loser of a uid race reads the winner's row.
 *
 * Each event goes to the application's enabled endpoints whose event types include it (read per
 * event: events are rare next to messages); with none, nothing is stored.
 */
import { ConfigError } from '../config/load.ts';
import { type Config, DEFAULT_PAYLOAD_RETENTION_MS } from '../config/settings.ts';
import { checkEndpointUrl } from '../domain/endpoint-url.ts';
import { fanOut } from '../domain/filter.ts';
import { newId } from '../domain/ids.ts';
import { toError } from '../errors/coerce.ts';
import type { Logger } from '../log/logger.ts';
import {
  type ApplicationRecord,
  type EndpointRecord,
  type Storage,
  UniqueViolation,
} from '../storage/contract.ts';
import type { OperationalEvent, OperationalSink } from './events.ts';
import { OPERATIONAL_APP_UID, OPERATIONAL_ENDPOINT_UID } from './internal-app.ts';
import { ensureOperationalApp } from './operational-app.ts';

export type OperationalConfig = Pick<
  Config,
  'operationalWebhookUrl' | 'operationalWebhookSecret' | 'allowedSubnets' | 'httpsOnly'
>;

export interface OperationalSinkDeps {
  readonly storage: Storage;
  readonly config: OperationalConfig;
  readonly logger: Logger;
  readonly clock?: () => number;
}

export interface OperationalSender extends OperationalSink {
  /** Creates or updates the internal application and endpoint; throws ConfigError on bad settings. */
  start(): Promise<void>;
  /** Waits for events being stored; later emits are dropped. */
  close(): Promise<void>;
}

interface Target {
  appId: string;
}

const NO_APP_RECHECK_MS = 5_000;

export function createOperationalSink(deps: OperationalSinkDeps): OperationalSender {
  const { storage, config } = deps;
  const logger = deps.logger.child({ component: 'operational-webhooks' });
  const clock = deps.clock ?? Date.now;
  const enabled = config.operationalWebhookUrl !== '';
  let target: Promise<Target | undefined> | undefined;
  let checkedAt = 0;
  let closed = false;
  const storing = new Set<Promise<void>>();

  function checkSettings(): void {
    if (config.operationalWebhookSecret === '')
      throw new ConfigError(
        'HOOKYARD_OPERATIONAL_WEBHOOK_SECRET is required when HOOKYARD_OPERATIONAL_WEBHOOK_URL is set (a whsec_ secret)',
      );
    const verdict = checkEndpointUrl(config.operationalWebhookUrl, config);
    if (!verdict.ok) throw new ConfigError(`invalid HOOKYARD_OPERATIONAL_WEBHOOK_URL: ${verdict.reason}`);
  }

  async function ensureEndpoint(app: ApplicationRecord, now: number): Promise<EndpointRecord> {
    const wanted = {
      url: config.operationalWebhookUrl,
      disabled: false,
      eventTypes: null,
      channels: null,
      headers: {},
      secrets: [{ key: config.operationalWebhookSecret, expiresAt: null }],
    };
    const existing = await storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID);
    if (!existing) {
      try {
        return await storage.endpoints.create({
          id: newId('endpoint', now),
          appId: app.id,
          uid: OPERATIONAL_ENDPOINT_UID,
          description: 'HOOKYARD_OPERATIONAL_WEBHOOK_URL',
          throttleRate: null,
          metadata: {},
          createdAt: now,
          updatedAt: now,
          ...wanted,
        });
      } catch (error) {
        const winner =
          error instanceof UniqueViolation && (await storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID));
        if (!winner) throw error;
        return ensureEndpoint(app, now);
      }
    }
    const inLine =
      existing.url === wanted.url &&
      !existing.disabled &&
      existing.eventTypes === null &&
      existing.channels === null &&
      Object.keys(existing.headers).length === 0 &&
      existing.secrets.length === 1 &&
      existing.secrets[0]?.key === config.operationalWebhookSecret;
    if (inLine) return existing;
    // A changed secret replaces the old one outright: the operator changed it, so nothing signed from
    // now on (retries of earlier events included) should verify with the old one.
    const updated = await storage.endpoints.update({ ...existing, ...wanted, updatedAt: now });
    if (!updated) throw new Error('the operational endpoint vanished while it was being updated');
    if (existing.url !== wanted.url || existing.disabled)
      logger.info({ url: wanted.url }, 'operational webhook endpoint updated');
    return updated;
  }

  async function disableLeftovers(now: number): Promise<void> {
    const app = await storage.applications.get(OPERATIONAL_APP_UID);
    if (!app) return;
    const endpoint = await storage.endpoints.get(app.id, OPERATIONAL_ENDPOINT_UID);
    if (!endpoint || endpoint.disabled) return;
    await storage.endpoints.update({ ...endpoint, disabled: true, updatedAt: now });
    logger.info('operational webhooks are off: their endpoint is disabled, queued events are held');
  }

  async function sync(): Promise<Target | undefined> {
    const now = clock();
    if (!enabled) {
      await disableLeftovers(now);
      // Endpoints made through the API (if any) still hear events.
      const app = await storage.applications.get(OPERATIONAL_APP_UID);
      return app && { appId: app.id };
    }
    checkSettings();
    const app = await ensureOperationalApp(storage, now);
    await ensureEndpoint(app, now);
    return { appId: app.id };
  }

  function resolveTarget(): Promise<Target | undefined> {
    if (!target) {
      checkedAt = clock();
      target = sync();
      // A failed sync (database down) is tried again by the next emit.
      target.catch(() => {
        target = undefined;
      });
    }
    return target;
  }

  async function store(event: OperationalEvent): Promise<void> {
    try {
      const to = await resolveTarget();
      // The application may appear later (the API makes it with the first operational endpoint):
      // looked for again at most every NO_APP_RECHECK_MS, so a server without one pays nothing per event.
      if (!to && clock() - checkedAt >= NO_APP_RECHECK_MS) target = undefined;
      // Events about the operational application itself are dropped: a failing operational receiver
      // would otherwise report its own failures to itself, without end.
      if (!to || event.data.appId === to.appId) return;
      const endpointIds = fanOut(await storage.endpoints.listAll(to.appId), {
        eventType: event.type,
        channels: null,
      }).map((endpoint) => endpoint.id);
      if (endpointIds.length === 0) return;
      const now = clock();
      const payload = JSON.stringify({
        type: event.type,
        timestamp: new Date(now).toISOString(),
        data: event.data,
      });
      await storage.messages.ingest({
        message: {
          id: newId('message', now),
          appId: to.appId,
          uid: null,
          eventType: event.type,
          channels: null,
          payload,
          payloadExpiresAt: now + DEFAULT_PAYLOAD_RETENTION_MS,
          createdAt: now,
        },
        endpointIds,
      });
    } catch (error) {
      // The change that caused the event is already committed; failing it now would only mislead.
      logger.error({ err: toError(error), event: event.type, data: event.data }, 'operational event lost');
    }
  }

  return {
    async start() {
      if (!enabled) {
        await resolveTarget();
        return;
      }
      checkSettings();
      await resolveTarget();
      logger.info({ url: config.operationalWebhookUrl }, 'operational webhooks on');
    },

    emit(event) {
      if (closed) return Promise.resolve();
      const pending = store(event).finally(() => storing.delete(pending));
      storing.add(pending);
      return pending;
    },

    async close() {
      closed = true;
      await Promise.all(storing);
    },
  };
}
