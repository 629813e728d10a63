import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { idBoundary } from '../../domain/ids.ts';
import { toError } from '../../errors/coerce.ts';
import type { MessageStatus } from '../../storage/contract.ts';
import type { ApiContext } from '../context.ts';
import { finishPage, pageWalk } from '../pagination.ts';
import { attemptOut, listJson, messageOutJson } from '../serialize.ts';
import { ExplorerListOut, ExplorerQuery } from '../stats-schemas.ts';

/**
 * Hookyard additions for operators: the message explorer (every application at once, or one) and
 * the live tail, a server-sent-event stream of new messages and attempts. The stream polls the
 * database once a second from the newest id it has sent (ids are time-ordered), so it sees what any
 * process of a fleet wrote, costs one indexed range read per second per open stream, and needs no
 * hook in the ingest or delivery path.
 */
const JSON_TYPE = 'application/json; charset=utf-8';
const POLL_MS = 1_000;
const HEARTBEAT_MS = 15_000;
const BATCH = 200;
const MAX_STREAMS = 100;

export function exploreRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  const streams = new Set<ServerResponse>();

  return async (app) => {
    app.addHook('preClose', async () => {
      for (const stream of streams) stream.end();
      streams.clear();
    });

    app.get(
      '/msg',
      {
        schema: { querystring: ExplorerQuery },
        config: {
          access: 'admin',
          operationId: 'v1.message.explore',
          description:
            'Hookyard addition. Messages of every application, newest first, filtered by application, event types, channel, delivery status (at least one delivery in it) and time; or, with `q`, the messages whose id or eventId is exactly that. With an event-type, channel or status filter a page examines at most 10,000 messages: when it stops there before filling up, `partial` is true, `done` false, and `iterator` continues the search from where it stopped (the page may hold fewer items than `limit`, or none).',
          responses: { 200: ExplorerListOut },
        },
      },
      async (request, reply) => {
        const query = request.query;
        const withContent = query.with_content === true;
        const out = (message: Parameters<typeof messageOutJson>[0]) =>
          messageOutJson(message, withContent, { appId: message.appId });
        if (query.q !== undefined) {
          const found = await ctx.storage.explore.findMessages(query.q, 50);
          return reply
            .type(JSON_TYPE)
            .send(
              listJson(
                found.map(out),
                { iterator: null, prevIterator: null, done: true },
                { partial: false },
              ),
            );
        }
        let appId = query.app_id;
        if (appId !== undefined) {
          const application = await ctx.storage.applications.get(appId);
          if (!application)
            return reply
              .type(JSON_TYPE)
              .send(listJson([], { iterator: null, prevIterator: null, done: true }, { partial: false }));
          appId = application.id;
        }
        const walk = pageWalk(query, 'message');
        const result = await ctx.storage.explore.listMessages(
          {
            appId,
            before: query.before === undefined ? undefined : Date.parse(query.before),
            after: query.after === undefined ? undefined : Date.parse(query.after),
            eventTypes: query.event_types,
            channel: query.channel,
            status: query.status as MessageStatus | undefined,
          },
          walk.page,
        );
        const { data, cursor } = finishPage(walk, result, (item) => item.id);
        // A page that stopped at the scan limit continues from where it stopped, not from its last row.
        const stoppedAt = result.stoppedAt;
        if (stoppedAt !== undefined) {
          if (walk.backwards) cursor.prevIterator = `-${stoppedAt}`;
          else cursor.iterator = stoppedAt;
        }
        return reply
          .type(JSON_TYPE)
          .send(listJson(data.map(out), cursor, { partial: stoppedAt !== undefined }));
      },
    );

    app.get(
      '/stream',
      {
        config: {
          access: 'admin',
          operationId: 'v1.stream.live',
          description:
            'Hookyard addition. Server-sent events: `message` for each new message (without payload) and `attempt` for each new attempt (without response body), from the moment of connecting. Polled once a second.',
          responses: { 200: null },
        },
      },
      async (_request, reply) => {
        if (streams.size >= MAX_STREAMS) {
          return reply
            .code(503)
            .type(JSON_TYPE)
            .send({ code: 'rate_limited', detail: 'Too many live streams are open.' });
        }
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          connection: 'keep-alive',
        });
        streams.add(raw);
        const now = ctx.clock();
        let lastMessage = idBoundary('message', now);
        let lastAttempt = idBoundary('attempt', now);
        let lastWrite = now;
        let closed = false;
        const send = (event: string, data: unknown) => {
          raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
          lastWrite = ctx.clock();
        };
        raw.write('retry: 3000\n\n');
        const tick = async () => {
          try {
            const messages = await ctx.storage.explore.messagesAfter(lastMessage, BATCH);
            for (const message of messages) {
              lastMessage = message.id;
              send('message', JSON.parse(messageOutJson(message, false, { appId: message.appId })));
            }
            const attempts = await ctx.storage.explore.attemptsAfter(lastAttempt, BATCH);
            for (const attempt of attempts) {
              lastAttempt = attempt.id;
              send('attempt', { ...attemptOut(attempt, false), appId: attempt.appId });
            }
            if (ctx.clock() - lastWrite >= HEARTBEAT_MS) {
              raw.write(': keep-alive\n\n');
              lastWrite = ctx.clock();
            }
          } catch (error) {
            ctx.logger.warn({ err: toError(error) }, 'live stream poll failed; retrying');
          }
          if (!closed) timer = setTimeout(tick, POLL_MS);
        };
        let timer: NodeJS.Timeout = setTimeout(tick, POLL_MS);
        raw.on('close', () => {
          closed = true;
          clearTimeout(timer);
          streams.delete(raw);
        });
      },
    );
  };
}
