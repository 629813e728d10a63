import { newId } from '../../domain/ids.ts';
import { toError } from '../../errors/coerce.ts';
import type { Logger } from '../../log/logger.ts';
import type { BackgroundTaskRecord, Storage } from '../../storage/contract.ts';

/**
 * Runs the API's long operations (bulk replay, replay missing, expunge all contents) as Svix's
 * background tasks: the task row is written `running` before the call answers, the work runs after
 * the response, and the row becomes `finished` (with the result in `data`) or `failed` (with the
 * error). A process that stops mid-task leaves it `running`; every operation is safe to start again.
 */
export interface BackgroundTasks {
  start(
    task: string,
    input: Record<string, unknown>,
    work: () => Promise<Record<string, unknown>>,
  ): Promise<BackgroundTaskRecord>;
  /** Records a task already done (recover, whose work is one statement). */
  record(task: string, data: Record<string, unknown>): Promise<BackgroundTaskRecord>;
  /** Waits for the tasks still running in this process. */
  drain(): Promise<void>;
}

export function createBackgroundTasks(
  storage: Storage,
  logger: Logger,
  clock: () => number,
): BackgroundTasks {
  const running = new Set<Promise<void>>();

  return {
    async start(task, input, work) {
      const now = clock();
      const record = await storage.backgroundTasks.create({
        id: newId('task', now),
        task,
        status: 'running',
        data: input,
        createdAt: now,
        updatedAt: now,
      });
      const run = (async () => {
        try {
          const result = await work();
          await storage.backgroundTasks.finish(record.id, 'finished', { ...input, ...result }, clock());
        } catch (thrown) {
          const error = toError(thrown);
          logger.error({ err: error, task, taskId: record.id }, 'background task failed');
          await storage.backgroundTasks
            .finish(record.id, 'failed', { ...input, error: error.message }, clock())
            .catch(() => {});
        }
      })();
      running.add(run);
      void run.finally(() => running.delete(run));
      return record;
    },

    async record(task, data) {
      const now = clock();
      return storage.backgroundTasks.create({
        id: newId('task', now),
        task,
        status: 'finished',
        data,
        createdAt: now,
        updatedAt: now,
      });
    },

    async drain() {
      await Promise.all(running);
    },
  };
}
