import type { Static } from 'typebox';
import { newId } from '../../domain/ids.ts';
import { type ApplicationRecord, UniqueViolation } from '../../storage/contract.ts';
import { type ApiContext, assertNotReserved, assertUid } from '../context.ts';
import type { ApplicationIn } from '../schemas.ts';

/**
 * Creating applications, shared by the routes that do it: `POST /app`, `POST /app/{app}/msg` with
 * `withApp` (get-or-create) and the app-portal access route.
 */

/** `rateLimit` is the newer SDKs' name for `throttleRate`; either sets it. */
export function rateOf(body: {
  throttleRate?: number | null;
  rateLimit?: number | null;
}): number | null | undefined {
  return body.throttleRate !== undefined ? body.throttleRate : body.rateLimit;
}

export function newApplication(
  body: Static<typeof ApplicationIn>,
  now: number,
  fallbackUid?: string,
): ApplicationRecord {
  assertNotReserved(body.uid ?? fallbackUid);
  assertUid('application', body.uid, ['body', 'uid']);
  if (body.uid == null) assertUid('application', fallbackUid, ['path', 'app_id']);
  return {
    id: newId('application', now),
    uid: body.uid ?? fallbackUid ?? null,
    name: body.name,
    throttleRate: rateOf(body) ?? null,
    metadata: body.metadata ?? {},
    createdAt: now,
    updatedAt: now,
  };
}

/** Creates the application, or returns the one holding that uid when a concurrent request won. */
export async function createOrGetApplication(
  ctx: ApiContext,
  record: ApplicationRecord,
): Promise<{ app: ApplicationRecord; created: boolean }> {
  try {
    return { app: await ctx.storage.applications.create(record), created: true };
  } catch (error) {
    if (!(error instanceof UniqueViolation) || record.uid === null) throw error;
    const existing = await ctx.storage.applications.get(record.uid);
    if (!existing) throw error;
    return { app: existing, created: false };
  }
}
