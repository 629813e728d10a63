import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { tokenMatches } from '../domain/tokens.ts';
import { ApiError } from '../errors/api-error.ts';
import type { MetaStore } from '../storage/contract.ts';
import { csrfMatches, readCookie, SESSION_COOKIE, type SessionStore } from '../ui/session-store.ts';

/**
 * Who is calling. The admin token (only its SHA-256 is known to the server) may do everything. An
 * app-portal token is scoped to one application: it manages that application's endpoints, reads its
 * messages and attempts, and reads event types; anything else is 403.
 *
 * Portal tokens are stateless: `appsk_` + base64url(JSON claims) + `.` + base64url(HMAC-SHA256) under a
 * server key kept in the meta table (`portal_signing_key`, made on first use), so every API process
 * verifies them without a lookup. The price is that a token cannot be revoked before it expires
 * (7 days by default); `POST /auth/logout` therefore only acknowledges. Rotating the key in the meta table
 * invalidates every portal token at once. `POST /auth/app/{app_id}/expire-all` (Svix's expireAll)
 * records a cut-off for one application (`portal_expire_all:<app id>` in the meta table): tokens it
 * issued before then (of the given sessions, if any) stop working after the grace period. Verifying a
 * portal token therefore reads that one meta row.
 */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'portal'; appId: string; readOnly: boolean; expiresAt: number };

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
  ): Promise<string>;
  verify(token: string, now: number): Promise<Principal | undefined>;
  /** Expires the application's tokens issued before `now`, `graceMs` later (of `sessionIds` only, if given). */
  expireAll(appId: string, now: number, graceMs: number, sessionIds?: readonly string[]): Promise<void>;
}

const EXPIRE_KEY = 'portal_expire_all:';
/** A rule outlives every token it can match once the longest token lifetime has passed. */
const MAX_TOKEN_LIFETIME_MS = 7 * 86_400_000;

export function createPortalTokens(meta: MetaStore): PortalTokens {
  let key: Promise<Buffer> | undefined;

  async function loadKey(): Promise<Buffer> {
    const existing = await meta.get(META_KEY);
    if (existing) return Buffer.from(existing, 'base64');
    await meta.set(META_KEY, randomBytes(32).toString('base64'));
    // Another process may have raced us; whichever write landed last is the key everyone uses.
    const stored = await meta.get(META_KEY);
    if (!stored) throw new Error('portal signing key vanished after being stored');
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
    async issue(appId, expiresAt, readOnly, sessionId, now = Date.now()) {
      const claims: PortalClaims = {
        a: appId,
        e: expiresAt,
        i: now,
        ...(readOnly ? { r: 1 as const } : {}),
        ...(sessionId ? { s: sessionId } : {}),
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
      if ((await rules(claims.a)).some((rule) => expiredBy(claims, rule, now))) return undefined;
      return { kind: 'portal', appId: claims.a, readOnly: claims.r === 1, expiresAt: claims.e };
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
  if (tokenMatches(token, adminTokenHash)) return { kind: 'admin' };
  throw new ApiError('authentication_failed');
}

/** Refuses principals that the route's access level excludes (the application match is checked later). */
export function authorize(principal: Principal, access: Access): void {
  if (principal.kind === 'admin' || access === 'any' || access === 'public' || access === 'app-read') return;
  if (access === 'app-write' && !principal.readOnly) return;
  throw new ApiError('forbidden');
}

/**
 * A portal principal may only touch its own application. Any other application (existing or not) is
 * 404 to it, as in Svix: to that token no other application exists, and it cannot probe for one.
 */
export function assertAppAccess(principal: Principal | null, appId: string | undefined): void {
  if (principal?.kind === 'portal' && principal.appId !== appId) throw ApiError.notFound('Application');
}

export function idempotencyScope(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : `portal:${principal.appId}`;
}
