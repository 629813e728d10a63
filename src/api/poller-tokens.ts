import { createHash, randomBytes } from 'node:crypto';
import type { MetaStore } from '../storage/contract.ts';

/**
 * Poller tokens (Svix's `/auth/app/{app_id}/poller/{endpoint_id}/token`): a bearer token that may only
 * read one polling endpoint (its poller routes), for a consumer that should hold no other power. Unlike
 * portal tokens they are stored, since the API shows the current one again: in the meta table, the
 * endpoint's current token under `poller_token:<endpoint id>` and, for verification, each token's
 * SHA-256 under `poller_token_hash:<digest>` with its application, endpoint and expiry. Rotating makes
 * a new current token and shortens the old one's life to `oldTokenExpiry` (0: at once).
 */
export const POLLER_TOKEN_PREFIX = 'sk_poll_';

export interface PollerToken {
  id: string;
  token: string;
  createdAt: number;
  /** null = never. */
  expiresAt: number | null;
}

export interface PollerGrant {
  appId: string;
  endpointId: string;
  expiresAt: number | null;
}

export interface PollerTokens {
  /** The endpoint's current token, made on first request. */
  current(appId: string, endpointId: string, now: number): Promise<PollerToken>;
  rotate(
    appId: string,
    endpointId: string,
    now: number,
    expirySeconds: number | null,
    oldTokenExpirySeconds: number,
  ): Promise<PollerToken>;
  /** What a presented token grants, or undefined when it is unknown or expired. */
  verify(token: string, now: number): Promise<PollerGrant | undefined>;
}

const CURRENT_KEY = 'poller_token:';
const HASH_KEY = 'poller_token_hash:';

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export function createPollerTokens(meta: MetaStore): PollerTokens {
  async function issue(appId: string, endpointId: string, now: number, expiresAt: number | null) {
    const token: PollerToken = {
      id: `ptok_${randomBytes(12).toString('hex')}`,
      token: POLLER_TOKEN_PREFIX + randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt,
    };
    const grant: PollerGrant = { appId, endpointId, expiresAt };
    // The grant first: a token shown before it can be verified would fail its first use.
    await meta.set(HASH_KEY + digest(token.token), JSON.stringify(grant));
    await meta.set(CURRENT_KEY + endpointId, JSON.stringify(token));
    return token;
  }

  async function stored(endpointId: string): Promise<PollerToken | undefined> {
    const raw = await meta.get(CURRENT_KEY + endpointId);
    return raw === undefined ? undefined : (JSON.parse(raw) as PollerToken);
  }

  return {
    async current(appId, endpointId, now) {
      const token = await stored(endpointId);
      if (token && (token.expiresAt === null || token.expiresAt > now)) return token;
      return issue(appId, endpointId, now, null);
    },

    async rotate(appId, endpointId, now, expirySeconds, oldTokenExpirySeconds) {
      const old = await stored(endpointId);
      const next = await issue(
        appId,
        endpointId,
        now,
        expirySeconds === null ? null : now + expirySeconds * 1000,
      );
      if (old) {
        const until = now + oldTokenExpirySeconds * 1000;
        const expiresAt = old.expiresAt === null ? until : Math.min(old.expiresAt, until);
        await meta.set(HASH_KEY + digest(old.token), JSON.stringify({ appId, endpointId, expiresAt }));
      }
      return next;
    },

    async verify(token, now) {
      const raw = await meta.get(HASH_KEY + digest(token));
      if (raw === undefined) return undefined;
      const grant = JSON.parse(raw) as PollerGrant;
      return grant.expiresAt === null || grant.expiresAt > now ? grant : undefined;
    },
  };
}
