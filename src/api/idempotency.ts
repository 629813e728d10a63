import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error.ts';
import type { IdempotencyStore } from '../storage/contract.ts';
import { idempotencyScope } from './auth.ts';

/**
 * `idempotency-key` on POST: the first request's response (status and body) is stored under the
 * caller's scope and replayed for a repeat of the same request; the same key with another request, or
 * while the first is still running, is 409 `idempotency_conflict`. 5xx responses are not kept, so a
 * retry after a server failure runs again. Keys are purged after `RETAIN_MS` (kept well beyond the
 * 12 hours promised).
 */
export const RETAIN_MS = 24 * 3_600_000;
const PURGE_EVERY_MS = 15 * 60_000;
const MAX_KEY_LENGTH = 256;

interface Claim {
  scope: string;
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: Claim | null;
  }
}

function fingerprint(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('base64url');
}

export function registerIdempotency(
  app: FastifyInstance,
  store: IdempotencyStore,
  clock: () => number,
): void {
  app.decorateRequest('idempotencyClaim', null);

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || !request.principal) return;
    const header = request.headers['idempotency-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || key === '') return;
    if (key.length > MAX_KEY_LENGTH) {
      throw ApiError.validation(['header', 'idempotency-key'], `at most ${MAX_KEY_LENGTH} characters`);
    }
    const scope = idempotencyScope(request.principal);
    const print = fingerprint(request);
    const existing = await store.begin(scope, key, print, clock());
    if (existing === undefined) {
      request.idempotencyClaim = { scope, key };
      return;
    }
    if (existing.fingerprint !== print) {
      throw new ApiError(
        'idempotency_conflict',
        'This idempotency-key was already used for a different request.',
      );
    }
    if (existing.statusCode === null) {
      throw new ApiError(
        'idempotency_conflict',
        'A request with this idempotency-key is still being processed.',
      );
    }
    reply.header('idempotent-replayed', 'true').code(existing.statusCode);
    if (existing.body) reply.type('application/json; charset=utf-8');
    reply.send(existing.body ?? '');
    return reply;
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = null;
    if (
      reply.statusCode >= 500 ||
      (payload !== undefined && payload !== null && typeof payload !== 'string')
    ) {
      await store.abandon(claim.scope, claim.key);
    } else {
      await store.finish(claim.scope, claim.key, reply.statusCode, payload ?? '');
    }
    return payload;
  });

  // A response that never reached onSend (the socket died mid-flight) must not pin its key as running.
  app.addHook('onResponse', async (request: FastifyRequest) => {
    const claim = request.idempotencyClaim;
    if (!claim) return;
    request.idempotencyClaim = null;
    await store.abandon(claim.scope, claim.key);
  });

  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      store
        .purgeOlderThan(clock() - RETAIN_MS)
        .catch((error: unknown) => app.log.warn({ err: error }, 'idempotency purge failed'));
    }, PURGE_EVERY_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
