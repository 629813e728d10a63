import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { tokenMatches } from '../domain/tokens.ts';
import { ApiError } from '../errors/api-error.ts';
import type { MetaStore } from '../storage/contract.ts';
import { csrfMatches, readCookie, SESSION_COOKIE, type SessionStore } from '../ui/session-store.ts';
import type { PollerTokens } from './poller-tokens.ts';
import { POLLER_TOKEN_PREFIX } from './poller-tokens.ts';

/**
 * Who is calling. The admin token (only its SHA-256 is known to the server) may do everything. An
 * app-portal token is scoped to one application and to its capabilities (see `Capability`); anything
 * else is 403, and another application's resources are 404 to it.
 *
 * Portal tokens are signed rather than stored: `appsk_` + base64url(JSON claims) + `.` +
 * base64url(HMAC-SHA256) under a server key kept in the meta table (`portal_signing_key`, made on first
 * use), so every API process of a fleet verifies them. Ending tokens early takes two meta rows, read
 * on each verification: `POST /auth/app/{app_id}/expire-all` (Svix's expireAll) records a cut-off for
 * one application (`portal_expire_all:<app id>`): tokens it issued before then (of the given sessions,
 * if any) stop working after the grace period; `POST /auth/logout` records the caller's own token id
 * (`portal_revoked:<token id>`). Rotating the signing key ends every portal token at once.
 *
 * The portal link does not carry the token itself but a one-time key (`PortalKeys`): the page trades
 * it for a token of its own, so a link that leaked after being opened is worth nothing.
 */
export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'portal';
      appId: string;
      /** True when the token holds no capability beyond ViewBase. */
      readOnly: boolean;
      expiresAt: number;
      capabilities: ReadonlySet<Capability>;
      /** Absent in tokens made before logout could revoke them. */
      tokenId?: string | undefined;
      sessionId?: string | undefined;
      /**
       * A poller token (poller-tokens.ts): it may only use the poller routes of this polling endpoint,
       * whatever its capabilities say.
       */
      pollerEndpointId?: string | undefined;
    };

/**
 * What an app-portal token may do (Svix's AppPortalCapability). `ViewBase` is needed for everything:
 * reading the application's endpoints, messages, attempts, statistics and the event catalog, without
 * secrets. The others each add a set of routes, named on the route (`config.capability`).
 */
export const CAPABILITIES = [
  'ViewBase',
  'ViewEndpointSecret',
  'ManageEndpointSecret',
  'ManageEndpoint',
  'CreateAttempts',
  'ManageTransformations',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Absent = every capability (as in Svix); `readOnly` = ViewBase alone. */
export function effectiveCapabilities(
  capabilities: readonly Capability[] | null | undefined,
  readOnly: boolean,
): Capability[] {
  if (readOnly) return ['ViewBase'];
  if (capabilities == null) return [...CAPABILITIES];
  return CAPABILITIES.filter((name) => name === 'ViewBase' || capabilities.includes(name));
}

/**
 * What a route needs: `public` (no token), `any` (any valid token), `app-read` / `app-write` (admin, or a
 * portal token of the application in the path — checked when the handler loads it; `app-write` also
 * refuses read-only portal tokens), `admin`.
 */
export type Access = 'public' | 'any' | 'app-read' | 'app-write' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
    /**
     * What a portal token needs beyond ViewBase for this route: any one of these (default: none for
     * `app-read` and `any`, ManageEndpoint for `app-write`).
     */
    capability?: readonly Capability[];
    /** A poller route: the one kind a poller token may use (routes/polling.ts checks its endpoint). */
    poller?: boolean;
  }
}

export const PORTAL_TOKEN_PREFIX = 'appsk_';
export const DEFAULT_PORTAL_TTL_MS = 7 * 86_400_000;
const META_KEY = 'portal_signing_key';

interface PortalClaims {
  /** Application id. */
  a: string;
  /** Expiry, milliseconds since the epoch. */
  e: number;
  /** Issued at, milliseconds (absent in tokens made before expire-all existed: treated as 0). */
  i?: number;
  /** Read-only. */
  r?: 1;
  /** Session id given when the token was issued. */
  s?: string;
  /** Capabilities; absent = all. */
  c?: Capability[];
  /** Token id (random), which logout revokes. */
  j?: string;
}

/** One expire-all: tokens issued before `issuedBefore` stop working at `expiresAt`. */
interface ExpireRule {
  issuedBefore: number;
  expiresAt: number;
  /** Only tokens of these sessions; absent = every token. */
  sessionIds?: string[];
}

export interface PortalTokens {
  issue(
    appId: string,
    expiresAt: number,
    readOnly: boolean,
    sessionId?: string,
    now?: number,
    capabilities?: readonly Capability[] | null,
  ): Promise<string>;
  verify(token: string, now: number): Promise<Principal | undefined>;
  /** Expires the application's tokens issued before `now`, `graceMs` later (of `sessionIds` only, if given). */
  expireAll(appId: string, now: number, graceMs: number, sessionIds?: readonly string[]): Promise<void>;
  /** Ends one token (logout); it stays refused until it would have expired anyway. */
  revoke(principal: Principal): Promise<void>;
}

const EXPIRE_KEY = 'portal_expire_all:';
const REVOKED_KEY = 'portal_revoked:';
/** A rule outlives every token it can match once the longest token lifetime has passed. */
const MAX_TOKEN_LIFETIME_MS = 7 * 86_400_000;

export function createPortalTokens(meta: MetaStore): PortalTokens {
  let key: Promise<Buffer> | undefined;

  async function loadKey(): Promise<Buffer> {
    const existing = await meta.get(META_KEY);
    if (existing) return Buffer.from(existing, 'base64');
    // Processes starting together may each make a key: the first stored is the one every one uses.
    const stored = await meta.setIfAbsent(META_KEY, randomBytes(32).toString('base64'));
    return Buffer.from(stored, 'base64');
  }

  function signingKey(): Promise<Buffer> {
    key ??= loadKey().catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  }

  function mac(secret: Buffer, body: string): Buffer {
    return createHmac('sha256', secret).update(`${PORTAL_TOKEN_PREFIX}${body}`).digest();
  }

  async function rules(appId: string): Promise<ExpireRule[]> {
    const stored = await meta.get(EXPIRE_KEY + appId);
    return stored ? (JSON.parse(stored) as ExpireRule[]) : [];
  }

  function expiredBy(claims: PortalClaims, rule: ExpireRule, now: number): boolean {
    if ((claims.i ?? 0) >= rule.issuedBefore || now < rule.expiresAt) return false;
    return rule.sessionIds === undefined || (claims.s !== undefined && rule.sessionIds.includes(claims.s));
  }

  return {
    async expireAll(appId, now, graceMs, sessionIds) {
      const kept = (await rules(appId)).filter((rule) => rule.issuedBefore > now - MAX_TOKEN_LIFETIME_MS);
      const rule: ExpireRule = {
        issuedBefore: now,
        expiresAt: now + graceMs,
        ...(sessionIds && sessionIds.length > 0 ? { sessionIds: [...sessionIds] } : {}),
      };
      await meta.set(EXPIRE_KEY + appId, JSON.stringify([...kept, rule]));
    },
    async revoke(principal) {
      if (principal.kind === 'portal' && principal.tokenId)
        await meta.set(REVOKED_KEY + principal.tokenId, String(principal.expiresAt));
    },
    async issue(appId, expiresAt, readOnly, sessionId, now = Date.now(), capabilities) {
      const claims: PortalClaims = {
        a: appId,
        e: expiresAt,
        i: now,
        ...(readOnly ? { r: 1 as const } : {}),
        ...(sessionId ? { s: sessionId } : {}),
        ...(capabilities != null && !readOnly ? { c: effectiveCapabilities(capabilities, false) } : {}),
        j: randomBytes(12).toString('base64url'),
      };
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${PORTAL_TOKEN_PREFIX}${body}.${mac(await signingKey(), body).toString('base64url')}`;
    },
    async verify(token, now) {
      if (!token.startsWith(PORTAL_TOKEN_PREFIX) || token.length > 2048) return undefined;
      const [body = '', signature = '', ...rest] = token.slice(PORTAL_TOKEN_PREFIX.length).split('.');
      if (rest.length > 0 || !body || !signature) return undefined;
      const expected = mac(await signingKey(), body);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let claims: PortalClaims;
      try {
        claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PortalClaims;
      } catch {
        return undefined;
      }
      if (typeof claims.a !== 'string' || typeof claims.e !== 'number' || claims.e <= now) return undefined;
      const [expireRules, revoked] = await Promise.all([
        rules(claims.a),
        claims.j ? meta.get(REVOKED_KEY + claims.j) : undefined,
      ]);
      if (revoked !== undefined || expireRules.some((rule) => expiredBy(claims, rule, now))) return undefined;
      const capabilities = new Set(effectiveCapabilities(claims.c, claims.r === 1));
      return {
        kind: 'portal',
        appId: claims.a,
        readOnly: capabilities.size === 1,
        expiresAt: claims.e,
        capabilities,
        tokenId: claims.j,
        sessionId: claims.s,
      };
    },
  };
}

/**
 * The one-time keys of portal links. A key is 32 random bytes; the meta table holds only its SHA-256
 * (`portal_key:<hash>`) with the token it stands for. Redeeming it overwrites the row as used before
 * answering, so a second redemption is refused (two within the same instant on two processes could
 * both read the row unused: the window is one meta read and one write).
 */
export interface PortalKeys {
  create(token: string, expiresAt: number): Promise<string>;
  redeem(key: string, now: number): Promise<string | undefined>;
}

const KEY_ROW = 'portal_key:';

export function createPortalKeys(meta: MetaStore): PortalKeys {
  const rowOf = (key: string) => KEY_ROW + createHash('sha256').update(key).digest('hex');
  return {
    async create(token, expiresAt) {
      const key = randomBytes(32).toString('base64url');
      await meta.set(rowOf(key), JSON.stringify({ token, expiresAt }));
      return key;
    },
    async redeem(key, now) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(key)) return undefined;
      const row = rowOf(key);
      const stored = await meta.get(row);
      if (!stored) return undefined;
      const record = JSON.parse(stored) as { token?: string; expiresAt?: number; used?: boolean };
      if (record.used || typeof record.token !== 'string' || (record.expiresAt ?? 0) <= now) return undefined;
      await meta.set(row, JSON.stringify({ used: true }));
      return record.token;
    },
  };
}

/** The bearer token of a request, or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export const CSRF_HEADER = 'x-csrf-token';

/**
 * Resolves the caller. The admin token is compared as SHA-256 digests in constant time (`tokenMatches`),
 * so the comparison neither leaks the token's length nor how many leading bytes matched. Without a bearer
 * token, a dashboard session cookie (when `sessions` is given) stands for the admin; a request that
 * changes anything must then also carry the session's CSRF token in `x-csrf-token`, which a page of
 * another site cannot read (the cookie is also SameSite=Strict: two independent defences).
 */
export async function authenticate(
  request: FastifyRequest,
  adminTokenHash: Buffer,
  portal: PortalTokens,
  now: number,
  sessions?: SessionStore,
  pollers?: PollerTokens,
): Promise<Principal> {
  const token = bearerToken(request);
  if (token === undefined) {
    const id = sessions && readCookie(request.headers.cookie, SESSION_COOKIE);
    const session = id ? await sessions?.get(id, now) : undefined;
    if (!session) throw new ApiError('authentication_failed');
    const safe = request.method === 'GET' || request.method === 'HEAD';
    if (!safe && !csrfMatches(session, request.headers[CSRF_HEADER])) throw new ApiError('csrf_failed');
    return { kind: 'admin' };
  }
  if (token.startsWith(PORTAL_TOKEN_PREFIX)) {
    const principal = await portal.verify(token, now);
    if (principal) return principal;
    throw new ApiError('authentication_failed', 'The app-portal token is invalid or has expired.');
  }
  if (pollers && token.startsWith(POLLER_TOKEN_PREFIX)) {
    const grant = await pollers.verify(token, now);
    if (!grant) throw new ApiError('authentication_failed', 'The poller token is invalid or has expired.');
    return {
      kind: 'portal',
      appId: grant.appId,
      readOnly: true,
      expiresAt: grant.expiresAt ?? Number.MAX_SAFE_INTEGER,
      capabilities: new Set<Capability>(['ViewBase']),
      pollerEndpointId: grant.endpointId,
    };
  }
  if (tokenMatches(token, adminTokenHash)) return { kind: 'admin' };
  throw new ApiError('authentication_failed');
}

/**
 * Refuses principals that the route's access level or capability excludes (the application match is
 * checked when the handler loads the application).
 */
export function authorize(
  principal: Principal,
  access: Access,
  capability?: readonly Capability[],
  pollerRoute = false,
): void {
  if (principal.kind === 'admin' || access === 'public') return;
  if (principal.pollerEndpointId !== undefined) {
    if (pollerRoute) return;
    throw new ApiError('forbidden', 'A poller token may only read its polling endpoint (the poller routes).');
  }
  if (access === 'admin') throw new ApiError('forbidden');
  if (!principal.capabilities.has('ViewBase'))
    throw new ApiError('forbidden', 'This app-portal token lacks the ViewBase capability.');
  const needed = capability ?? (access === 'app-write' ? (['ManageEndpoint'] as const) : []);
  if (needed.length > 0 && !needed.some((name) => principal.capabilities.has(name)))
    throw new ApiError('forbidden', `This app-portal token lacks the ${needed.join(' or ')} capability.`);
}

/**
 * A portal principal may only touch its own application. Any other application (existing or not) is
 * 404 to it, as in Svix: to that token no other application exists, and it cannot probe for one.
 */
export function assertAppAccess(principal: Principal | null, appId: string | undefined): void {
  if (principal?.kind === 'portal' && principal.appId !== appId) throw ApiError.notFound('Application');
}

export function idempotencyScope(principal: Principal): string {
  if (principal.kind === 'admin') return 'admin';
  return principal.pollerEndpointId !== undefined
    ? `poller:${principal.pollerEndpointId}`
    : `portal:${principal.appId}`;
}
