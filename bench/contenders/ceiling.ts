/**
 * Contender "ceiling": accept, answer 202, POST at once. Nothing is stored: a queued event lives only
 * in this process's memory (lost on any crash). It bounds what any durable design can reach on this
 * machine, since it does everything the others do (validate, sign, deliver, retry) except persist.
 *
 * Deliveries wait in an in-memory FIFO drained by at most `concurrency` attempts in flight; a failed
 * attempt is re-queued after the scenario's retry delay.
 */
import { createIngestApp, createPoster, listenAndAnnounce, newMessageId, readEnv } from './common.ts';

interface Task {
  readonly url: string;
  readonly messageId: string;
  readonly body: string;
  attempt: number;
}

const env = readEnv();
const poster = createPoster(env);
const queue: Task[] = [];
let head = 0;
let inFlight = 0;

function pump(): void {
  while (inFlight < env.concurrency && head < queue.length) {
    const task = queue[head++]!;
    // Compact the FIFO once its consumed prefix dominates, so memory follows the backlog.
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    inFlight++;
    poster.post(task.url, task.messageId, task.body).then((outcome) => {
      inFlight--;
      if (!outcome.ok && task.attempt <= env.retryDelays.length) {
        const delay = env.retryDelays[task.attempt - 1]!;
        task.attempt++;
        setTimeout(() => {
          queue.push(task);
          pump();
        }, delay);
      }
      pump();
    });
  }
}

const app = createIngestApp();
app.post('/events', async (req, reply) => {
  const body = req.body as string;
  const messageId = newMessageId();
  for (const url of env.targets) queue.push({ url, messageId, body, attempt: 1 });
  pump();
  return reply.code(202).send({ id: messageId });
});

await listenAndAnnounce(app, env, async () => {
  await app.close();
  await poster.close();
});
