import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MetaStore } from '../storage/contract.ts';

/**
 * Dashboard sessions. The cookie holds an opaque random id (32 bytes, base64url); the database holds
 * only its SHA-256 under `ui_session:<hash>` in the meta table with the expiry and the session's CSRF
 * token, so a database dump yields no usable cookie and every API process of a fleet sees the same
 * sessions. Signing out deletes the record, and each sign-in first deletes the records that have
 * expired (at most once per SWEEP_EVERY_MS per process), so the table holds live sessions only. The
 * admin token itself is never stored, in the browser or here: it is checked once at sign-in against
 * its hash.
 */
export interface UiSession {
  readonly csrfToken: string;
  readonly expiresAt: number;
}

export interface SessionStore {
  create(now: number): Promise<{ id: string; session: UiSession }>;
  get(id: string, now: number): Promise<UiSession | undefined>;
  revoke(id: string): Promise<void>;
}

export const SESSION_COOKIE = 'hookyard_session';
export const SESSION_TTL_MS = 12 * 3_600_000;
const KEY_PREFIX = 'ui_session:';
const SWEEP_EVERY_MS = 3_600_000;
const SWEEP_PAGE = 500;

function keyOf(id: string): string {
  return KEY_PREFIX + createHash('sha256').update(id).digest('hex');
}

/** Whether a stored record is no longer a usable session (expired, unreadable, or an old revocation). */
function spent(stored: string, now: number): boolean {
  try {
    const session = JSON.parse(stored) as Partial<UiSession>;
    return typeof session.expiresAt !== 'number' || session.expiresAt <= now;
  } catch {
    return true;
  }
}

export function createSessionStore(meta: MetaStore, ttlMs = SESSION_TTL_MS): SessionStore {
  let sweptAt = Number.NEGATIVE_INFINITY;
  async function sweep(now: number): Promise<void> {
    if (now - sweptAt < SWEEP_EVERY_MS) return;
    sweptAt = now;
    let after: string | undefined;
    for (;;) {
      const page = await meta.entries(KEY_PREFIX, SWEEP_PAGE, after);
      for (const entry of page) if (spent(entry.value, now)) await meta.delete(entry.key);
      if (page.length < SWEEP_PAGE) return;
      after = page.at(-1)?.key;
    }
  }

  return {
    async create(now) {
      await sweep(now);
      const id = randomBytes(32).toString('base64url');
      const session = { csrfToken: randomBytes(24).toString('base64url'), expiresAt: now + ttlMs };
      await meta.set(keyOf(id), JSON.stringify(session));
      return { id, session };
    },
    async get(id, now) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const stored = await meta.get(keyOf(id));
      if (!stored) return undefined;
      let session: Partial<UiSession>;
      try {
        session = JSON.parse(stored) as Partial<UiSession>;
      } catch {
        return undefined;
      }
      if (typeof session.csrfToken !== 'string' || typeof session.expiresAt !== 'number') return undefined;
      if (session.expiresAt <= now) return undefined;
      return { csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
    async revoke(id) {
      await meta.delete(keyOf(id));
    },
  };
}

/** Constant-time comparison of a CSRF token sent by the page with the session's. */
export function csrfMatches(session: UiSession, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
