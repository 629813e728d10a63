import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import type { AddressGuard } from '../address-guard.ts';
import { assertConfig, checkMqttConfig, type MqttConfig, parseBrokerUrl } from './broker-config.ts';
import { type BrokerMessage, brokerHeaders } from './broker-message.ts';
import {
  abortable,
  type BackoffOptions,
  createConnectionPool,
  failureOutcome,
  resolveGuarded,
  successOutcome,
  withAddress,
  withTimeout,
} from './connection-pool.ts';
import type { PublishOutcome } from './publish-outcome.ts';

interface MqttSession {
  readonly client: MqttClient;
  /** Publishes waiting for their PUBACK, failed at once when the connection closes. */
  readonly waiting: Set<(error: Error) => void>;
}

export interface MqttPublisher {
  /** Resolves when the broker confirmed (success) or the attempt failed; `signal` stops the wait. */
  publish(
    config: MqttConfig,
    message: BrokerMessage,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<PublishOutcome>;
  connections(): number;
  close(): Promise<void>;
}

/** PUBACK reason codes a repeat of the same message can never turn into success. */
const PERMANENT_REASONS = new Set([144, 149, 153]);

/**
 * Publishes over MQTT 5 with QoS 1: a publish succeeds when the broker's PUBACK arrives with a
 * success reason code. The webhook headers travel as MQTT 5 user properties, with content type
 * `application/json`. An MQTT broker hands a message to the subscribers connected (or holding a
 * persistent session) at that moment; the docs tell consumers to subscribe with a persistent
 * session at QoS 1.
 */
export function createMqttPublisher(options: {
  readonly guard: AddressGuard;
  readonly backoff?: BackoffOptions;
}): MqttPublisher {
  const pool = createConnectionPool<MqttSession>(async (session) => {
    await session.client.endAsync(true);
  }, options.backoff);

  async function open(key: string, url: URL, timeoutMs: number): Promise<MqttSession> {
    const address = await resolveGuarded(url.hostname, options.guard);
    const pinned = withAddress(url, address);
    const client = await connectAsync(
      pinned.href,
      {
        protocolVersion: 5,
        clientId: `hookyard_${randomBytes(8).toString('hex')}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: timeoutMs,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(url.protocol === 'mqtts:' ? { servername: url.hostname.replace(/^\[|\]$/g, '') } : {}),
      },
      false,
    );
    const session: MqttSession = { client, waiting: new Set() };
    client.on('error', () => {});
    client.on('close', () => {
      for (const fail of session.waiting)
        fail(new Error('the connection to the MQTT broker closed before the PUBACK'));
      session.waiting.clear();
      pool.discard(key, session);
    });
    return session;
  }

  async function attempt(
    config: MqttConfig,
    message: BrokerMessage,
    timeoutMs: number,
    started: number,
  ): Promise<PublishOutcome> {
    try {
      assertConfig(checkMqttConfig(config));
      const url = parseBrokerUrl(config.url, 'url', ['mqtt', 'mqtts']);
      const session = await pool.acquire(config.url, () => open(config.url, url, timeoutMs), timeoutMs);
      const acked = new Promise<number>((resolve, reject) => {
        const fail = (error: Error) => reject(error);
        session.waiting.add(fail);
        session.client.publish(
          config.topic,
          message.body,
          {
            qos: 1,
            properties: {
              contentType: 'application/json',
              payloadFormatIndicator: true,
              userProperties: brokerHeaders(message),
            },
          },
          (error, packet) => {
            session.waiting.delete(fail);
            if (error) reject(error);
            else resolve((packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0);
          },
        );
      });
      const reason = await withTimeout(acked, timeoutMs, 'waiting for the MQTT PUBACK');
      const note = reason === 16 ? ', no subscriber matched' : '';
      return successOutcome(`PUBACK from the MQTT broker (topic '${config.topic}'${note})`, started);
    } catch (error) {
      return failureOutcome(error, started, (e) =>
        PERMANENT_REASONS.has(Number((e as { code?: unknown }).code)),
      );
    }
  }

  function publish(config: MqttConfig, message: BrokerMessage, timeoutMs: number, signal?: AbortSignal) {
    const started = performance.now();
    return abortable(attempt(config, message, timeoutMs, started), signal, started);
  }

  return { publish, connections: pool.size, close: pool.close };
}
