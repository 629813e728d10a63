import { Link, useLocation } from 'wouter';
import { keys, queries } from '../../api/queries.ts';
import { useApi, useCan } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { appHref, endpointHref, messageHref } from '../../components/endpoint-link.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { ms } from '../../components/format.ts';
import { JsonView } from '../../components/json-view.tsx';
import { useApiMutation } from '../../components/mutation.ts';
import { Panel, QueryView } from '../../components/panel.tsx';
import { StatusBadge } from '../../components/status-badge.tsx';
import { Time } from '../../components/time.tsx';

const TRIGGER = ['scheduled', 'manual'];

function parsed(text: string | null): { json: true; value: unknown } | { json: false } {
  if (text === null) return { json: false };
  try {
    return { json: true, value: JSON.parse(text) };
  } catch {
    return { json: false };
  }
}

/** One attempt: the request exactly as signed, what came back, and a resend. */
export default function AttemptPage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const msgId = params['msgId'] ?? '';
  const attemptId = params['attemptId'] ?? '';
  const api = useApi();
  const [, navigate] = useLocation();
  const canResend = useCan()('CreateAttempts');
  const resend = useApiMutation(
    (endpointId: string) =>
      api.post<void>(
        `/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}/endpoint/${encodeURIComponent(endpointId)}/resend`,
      ),
    () => [[...keys.app(appId), 'message', msgId]],
    () => navigate(messageHref(appId, msgId)),
  );
  return (
    <>
      <p className="muted crumbs">
        <Link href={appHref(appId)}>{appId}</Link> / <Link href={messageHref(appId, msgId)}>{msgId}</Link> /
      </p>
      <h1 className="mono">{attemptId}</h1>
      <Panel title="Attempt">
        <QueryView query={queries.attempt(api, appId, msgId, attemptId)}>
          {(attempt) => (
            <>
              <dl className="kv">
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={attempt.status} />
                </dd>
                <dt>Response status</dt>
                <dd>{attempt.responseStatusCode || 'no response'}</dd>
                <dt>Duration</dt>
                <dd>{ms(attempt.responseDurationMs)}</dd>
                <dt>When</dt>
                <dd>
                  <Time value={attempt.timestamp} />
                </dd>
                <dt>Trigger</dt>
                <dd>{TRIGGER[attempt.triggerType] ?? attempt.triggerType}</dd>
                <dt>Endpoint</dt>
                <dd>
                  <Link href={endpointHref(appId, attempt.endpointId)} className="url">
                    {attempt.url}
                  </Link>
                </dd>
              </dl>
              {canResend ? (
                <div className="actions">
                  <button
                    type="button"
                    onClick={() => resend.mutate(attempt.endpointId)}
                    disabled={resend.isPending}
                  >
                    Resend
                  </button>
                </div>
              ) : null}
              <FormStatus error={resend.error} />
              {attempt.responseStatusCode ? (
                <QueryView query={queries.attemptRequest(api, appId, msgId, attemptId)}>
                  {(request) => <ResponseHeaders headers={request.responseHeaders} />}
                </QueryView>
              ) : null}
              <h3>{attempt.responseStatusCode ? 'Response body (as stored)' : 'Error'}</h3>
              {attempt.response === '' ? (
                <p className="muted">Empty (or purged by retention).</p>
              ) : (
                <pre className="json wrap">{attempt.response}</pre>
              )}
            </>
          )}
        </QueryView>
      </Panel>
      <Panel title="Request as signed">
        <QueryView query={queries.attemptRequest(api, appId, msgId, attemptId)}>
          {(request) => {
            const body = parsed(request.body);
            return (
              <>
                <p className="mono url">
                  {request.method} {request.url}
                </p>
                {request.exact ? null : (
                  <p className="muted">
                    The endpoint changed since this attempt: headers and signature are rebuilt from its
                    current settings.
                  </p>
                )}
                <HeadersTable caption="Request headers" headers={request.headers} />
                <h3>Body</h3>
                {request.body === null ? (
                  <p className="muted">The payload was purged by retention.</p>
                ) : body.json ? (
                  <JsonView value={body.value} label="Request body" />
                ) : (
                  <pre className="json wrap">{request.body}</pre>
                )}
              </>
            );
          }}
        </QueryView>
      </Panel>
    </>
  );
}

/** The receiver's response headers as the attempt recorded them (none before schema 14 or after retention). */
function ResponseHeaders({ headers }: { headers: Record<string, string> | null }) {
  return (
    <>
      <h3>Response headers</h3>
      {headers && Object.keys(headers).length > 0 ? (
        <HeadersTable caption="Response headers" headers={headers} />
      ) : (
        <p className="muted">None recorded.</p>
      )}
    </>
  );
}

/** HTTP headers as a two-column table, name and value. */
function HeadersTable({ caption, headers }: { caption: string; headers: Record<string, string> }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Header</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(headers).map(([name, value]) => (
            <tr key={name}>
              <td className="mono">{name}</td>
              <td className="mono url">{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
