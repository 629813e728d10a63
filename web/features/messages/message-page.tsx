import { Link } from 'wouter';
import { keys, queries } from '../../api/queries.ts';
import { useApi, useCan, useInPortal } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { appHref, attemptHref, endpointHref } from '../../components/endpoint-link.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { ms } from '../../components/format.ts';
import { JsonView } from '../../components/json-view.tsx';
import { useApiMutation } from '../../components/mutation.ts';
import { Panel, QueryView } from '../../components/panel.tsx';
import { StatusBadge } from '../../components/status-badge.tsx';
import { Time } from '../../components/time.tsx';

/** One message: its payload, every endpoint it went to (with a resend each), every attempt. */
export default function MessagePage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const msgId = params['msgId'] ?? '';
  const api = useApi();
  const canResend = useCan()('CreateAttempts');
  const inPortal = useInPortal();
  const resend = useApiMutation(
    (endpointId: string) =>
      api.post<void>(
        `/app/${encodeURIComponent(appId)}/msg/${encodeURIComponent(msgId)}/endpoint/${encodeURIComponent(endpointId)}/resend`,
      ),
    () => [[...keys.app(appId), 'message', msgId]],
  );
  return (
    <>
      <p className="muted crumbs">
        {inPortal ? (
          <Link href={`${appHref(appId)}/messages`}>Message log</Link>
        ) : (
          <>
            <Link href="/messages">Messages</Link> / <Link href={appHref(appId)}>{appId}</Link>
          </>
        )}{' '}
        /
      </p>
      <h1 className="mono">{msgId}</h1>
      <Panel title="Message">
        <QueryView query={queries.message(api, appId, msgId)}>
          {(message) => (
            <>
              <dl className="kv">
                <dt>Event type</dt>
                <dd>{message.eventType}</dd>
                <dt>Event id</dt>
                <dd className="mono">{message.eventId ?? '—'}</dd>
                <dt>Channels</dt>
                <dd>{message.channels?.join(', ') ?? '—'}</dd>
                <dt>Received</dt>
                <dd>
                  <Time value={message.timestamp} />
                </dd>
              </dl>
              <h3>Payload</h3>
              <JsonView value={message.payload} label="Message payload" />
            </>
          )}
        </QueryView>
      </Panel>
      <Panel title="Endpoints">
        <QueryView query={queries.messageEndpoints(api, appId, msgId)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">No endpoint matched this message.</p>
            ) : (
              <>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Endpoint</th>
                        <th scope="col">Status</th>
                        <th scope="col">Next attempt</th>
                        <th scope="col">
                          <span className="sr-only">Actions</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((endpoint) => (
                        <tr key={endpoint.id}>
                          <td>
                            <Link href={endpointHref(appId, endpoint.id)} className="url">
                              {endpoint.url}
                            </Link>
                          </td>
                          <td>
                            <StatusBadge status={endpoint.status} />
                          </td>
                          <td>
                            <Time value={endpoint.nextAttempt} />
                          </td>
                          <td>
                            {canResend ? (
                              <button
                                type="button"
                                onClick={() => resend.mutate(endpoint.id)}
                                disabled={resend.isPending}
                              >
                                Resend to this endpoint
                              </button>
                            ) : null}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <FormStatus error={resend.error} success={resend.isSuccess ? 'Queued again.' : null} />
              </>
            )
          }
        </QueryView>
      </Panel>
      <Panel title="Attempts">
        <QueryView
          query={{
            ...queries.messageAttempts(api, appId, msgId),
            // A message just sent has no attempt yet: look again until its first one arrives.
            refetchInterval: (query) => ((query.state.data?.data.length ?? 1) === 0 ? 1000 : false),
          }}
        >
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">No attempt yet.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Attempt</th>
                      <th scope="col">Status</th>
                      <th scope="col">Response</th>
                      <th scope="col">Duration</th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.data.map((attempt) => (
                      <tr key={attempt.id}>
                        <td className="mono">
                          <Link href={attemptHref(appId, msgId, attempt.id)}>{attempt.id}</Link>
                        </td>
                        <td>
                          <StatusBadge status={attempt.status} />
                        </td>
                        <td>{attempt.responseStatusCode || 'no response'}</td>
                        <td>{ms(attempt.responseDurationMs)}</td>
                        <td>
                          <Time value={attempt.timestamp} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryView>
      </Panel>
    </>
  );
}
