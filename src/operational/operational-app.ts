import { newId } from '../domain/ids.ts';
import { type ApplicationRecord, type Storage, UniqueViolation } from '../storage/contract.ts';
import { OPERATIONAL_APP_UID } from './internal-app.ts';

/**
 * The internal operational-webhook application, created on first need (by the sink at start-up when
 * the URL setting seeds an endpoint, or by the API with the first operational endpoint). Processes
 * racing to create it: the loser of the uid race reads the winner's row.
 */
export async function ensureOperationalApp(storage: Storage, now: number): Promise<ApplicationRecord> {
  const existing = await storage.applications.get(OPERATIONAL_APP_UID);
  if (existing) return existing;
  try {
    return await storage.applications.create({
      id: newId('application', now),
      uid: OPERATIONAL_APP_UID,
      name: 'Hookyard operational webhooks',
      throttleRate: null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    const winner = error instanceof UniqueViolation && (await storage.applications.get(OPERATIONAL_APP_UID));
    if (!winner) throw error;
    return winner;
  }
}
