import { TEST_ADMIN_TOKEN } from './server-process.ts';

export interface LoadResult {
  /** Message ids the API acknowledged with 202. */
  accepted: Set<string>;
  /** How many requests got each non-202 status (0 = the connection failed). */
  rejected: Map<number, number>;
}

/**
 * Sends `total` 1 KB messages to one application with bounded concurrency. `onProgress` runs after
 * each response (a test uses it to kill a process mid-stream); `shouldStop` ends the run early.
 */
export async function sendMessages(options: {
  url: string;
  appId: string;
  total: number;
  concurrency?: number;
  eventType?: string;
  onProgress?: (result: LoadResult) => void;
  shouldStop?: () => boolean;
}): Promise<LoadResult> {
  const result: LoadResult = { accepted: new Set(), rejected: new Map() };
  let next = 0;
  const worker = async () => {
    while (next < options.total && !options.shouldStop?.()) {
      const i = next++;
      let status = 0;
      try {
        const res = await fetch(`${options.url}/api/v1/app/${options.appId}/msg`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            eventType: options.eventType ?? 'load.test',
            payload: { i, pad: 'x'.repeat(900) },
          }),
        });
        status = res.status;
        const body = (await res.json()) as { id?: string };
        if (status === 202 && body.id) result.accepted.add(body.id);
      } catch {
        // The connection failed: the request was never acknowledged, so it may be lost.
      }
      if (status !== 202) result.rejected.set(status, (result.rejected.get(status) ?? 0) + 1);
      options.onProgress?.(result);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 64 }, worker));
  return result;
}
