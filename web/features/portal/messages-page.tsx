import { Link, useSearch } from 'wouter';
import { queries } from '../../api/queries.ts';
import { useApi } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { messageHref } from '../../components/endpoint-link.tsx';
import { Pager } from '../../components/pager.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Time } from '../../components/time.tsx';

/** The application's message log, newest first; each message lists its attempts and their responses. */
export default function PortalMessagesPage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const api = useApi();
  const iterator = new URLSearchParams(useSearch()).get('iterator') ?? undefined;
  return (
    <>
      <h1>Messages</h1>
      <Panel title="Message log">
        <QueryView query={queries.appMessages(api, appId, iterator)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">No messages yet.</p>
            ) : (
              <>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Message</th>
                        <th scope="col">Event type</th>
                        <th scope="col">Channels</th>
                        <th scope="col">Received</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((message) => (
                        <tr key={message.id}>
                          <td className="mono">
                            <Link href={messageHref(appId, message.id)}>{message.id}</Link>
                          </td>
                          <td>{message.eventType}</td>
                          <td>{message.channels?.join(', ') ?? '—'}</td>
                          <td>
                            <Time value={message.timestamp} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager iterator={page.iterator} done={page.done} label="Messages" />
              </>
            )
          }
        </QueryView>
      </Panel>
    </>
  );
}
