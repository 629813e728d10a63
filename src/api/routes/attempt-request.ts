import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestHeaders } from '../../delivery/request-headers.ts';
import { ApiError } from '../../errors/api-error.ts';
import { type ApiContext, loadApp, loadMessage } from '../context.ts';
import { AttemptParams } from '../schemas.ts';
import { AttemptRequestOut } from '../stats-schemas.ts';

/**
 * A Hookyard addition: the request an attempt sent, headers and body as signed. Attempts do not store
 * their request (it is the message payload plus headers derived from the endpoint), so it is rebuilt
 * with the same function the dispatcher signs with, at the attempt's own time; `exact` says whether
 * the endpoint changed since (a rotated secret or new headers make the rebuilt request differ).
 */
export function attemptRequestRoutes(ctx: ApiContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/app/:app_id/msg/:msg_id/attempt/:attempt_id/request',
      {
        schema: { params: AttemptParams },
        config: {
          access: 'app-read',
          operationId: 'v1.message-attempt.get-request',
          description:
            'Hookyard addition. The HTTP request of this attempt as it was signed (method, URL, headers, body), and the response headers recorded with it.',
          responses: { 200: AttemptRequestOut },
        },
      },
      async (request) => {
        const application = await loadApp(ctx, request, request.params.app_id);
        const message = await loadMessage(ctx, application, request.params.msg_id);
        const attempt = await ctx.storage.attempts.get(application.id, message.id, request.params.attempt_id);
        if (!attempt) throw ApiError.notFound('Message attempt');
        const endpoint = await ctx.storage.endpoints.get(application.id, attempt.endpointId);
        if (!endpoint) throw ApiError.notFound('Endpoint');
        const body = message.payload;
        let headers: Record<string, string> = {};
        if (body !== null) {
          try {
            headers = requestHeaders(
              endpoint,
              message.id,
              Math.floor(attempt.createdAt / 1000),
              body,
              attempt.createdAt,
              ctx.config.signatureHeaders,
            );
          } catch {
            // No secret valid at the attempt's time any more: show the request without signature headers.
            headers = { 'content-type': 'application/json' };
          }
        }
        return {
          method: 'POST' as const,
          url: attempt.url,
          headers,
          body,
          exact: body !== null && endpoint.updatedAt <= attempt.createdAt && endpoint.url === attempt.url,
          responseHeaders: attempt.responseHeaders ?? null,
        };
      },
    );
  };
}
