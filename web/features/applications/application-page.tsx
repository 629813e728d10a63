import type { FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { keys, queries } from '../../api/queries.ts';
import type { ApplicationOut, EndpointOut } from '../../api/types.ts';
import { useApi } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { Chart } from '../../components/chart.tsx';
import { ConfirmButton } from '../../components/confirm-button.tsx';
import { endpointHref, messageHref } from '../../components/endpoint-link.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { ms, percent } from '../../components/format.ts';
import { useApiMutation } from '../../components/mutation.ts';
import { Pager } from '../../components/pager.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Badge } from '../../components/status-badge.tsx';
import { Time } from '../../components/time.tsx';
import { parseJsonObject } from '../endpoints/endpoint-form.ts';

/** One application: its endpoints with health at a glance, its traffic, its recent messages. */
export default function ApplicationPage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const api = useApi();
  const iterator = new URLSearchParams(useSearch()).get('iterator') ?? undefined;
  return (
    <>
      <QueryView query={queries.application(api, appId)}>
        {(app) => (
          <>
            <p className="muted crumbs">
              <Link href="/apps">Applications</Link> /
            </p>
            <h1>{app.name}</h1>
            <ApplicationDetails app={app} />
          </>
        )}
      </QueryView>
      <Panel title="Endpoints">
        <EndpointsTable appId={appId} />
      </Panel>
      <Panel title="Add an endpoint">
        <CreateEndpoint appId={appId} />
      </Panel>
      <Panel title="Attempts over the last day">
        <QueryView query={queries.series(api, appId, undefined, '24h')}>
          {(series) => (
            <>
              <p className="muted">
                {series.totals.succeeded} succeeded, {series.totals.failed} failed, success rate{' '}
                {percent(series.totals.successRate)}, p99 latency {ms(series.totals.p99LatencyMs)}.
              </p>
              <Chart series={series.series} kind="volume" label="Attempts per 15 minutes over the last day" />
            </>
          )}
        </QueryView>
      </Panel>
      <Panel
        title="Recent messages"
        actions={<Link href={`/messages?app=${encodeURIComponent(appId)}`}>Filter in the explorer</Link>}
      >
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
                        <th scope="col">Event id</th>
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
                          <td className="mono">{message.eventId ?? '—'}</td>
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

function ApplicationDetails({ app }: { app: ApplicationOut }) {
  const api = useApi();
  const [, navigate] = useLocation();
  const save = useApiMutation(
    (input: Record<string, unknown>) =>
      api.patch<ApplicationOut>(`/app/${encodeURIComponent(app.id)}`, input),
    () => [keys.app(app.id), ['apps', 'list']],
  );
  const remove = useApiMutation(
    () => api.delete(`/app/${encodeURIComponent(app.id)}`),
    () => [['apps', 'list']],
    () => navigate('/apps'),
  );
  function onSave(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const uid = String(form.get('uid') ?? '').trim();
    const rate = String(form.get('rateLimit') ?? '').trim();
    const metadata = parseJsonObject(String(form.get('metadata') ?? ''));
    save.mutate({
      name: String(form.get('name') ?? '').trim(),
      uid: uid === '' ? null : uid,
      rateLimit: rate === '' ? null : Number(rate),
      ...(metadata.ok ? { metadata: metadata.value } : {}),
    });
  }
  return (
    <Panel title="Settings" actions={<span className="mono muted">{app.id}</span>}>
      <form className="stack" onSubmit={onSave} key={app.updatedAt}>
        <div className="fields">
          <div>
            <label htmlFor="app-name">Name</label>
            <input id="app-name" name="name" defaultValue={app.name} required />
          </div>
          <div>
            <label htmlFor="app-uid">Uid</label>
            <input id="app-uid" name="uid" defaultValue={app.uid ?? ''} />
          </div>
          <div>
            <label htmlFor="app-rate">Rate limit (messages per second, empty = none)</label>
            <input
              id="app-rate"
              name="rateLimit"
              type="number"
              min={1}
              max={65535}
              defaultValue={app.rateLimit ?? ''}
            />
          </div>
        </div>
        <div>
          <label htmlFor="app-metadata">Metadata (JSON object of strings)</label>
          <textarea id="app-metadata" name="metadata" defaultValue={JSON.stringify(app.metadata, null, 2)} />
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            Save application
          </button>
          <ConfirmButton
            label="Delete application"
            question={`Delete ${app.name} with all its endpoints and messages?`}
            confirmLabel="Delete"
            onConfirm={() => remove.mutate(undefined)}
          />
        </div>
        <FormStatus error={save.error ?? remove.error} success={save.isSuccess ? 'Saved.' : null} />
      </form>
    </Panel>
  );
}

export function EndpointsTable({ appId }: { appId: string }) {
  const api = useApi();
  return (
    <QueryView query={queries.endpoints(api, appId)}>
      {(endpoints) => (
        <QueryView query={queries.appEndpointStats(api, appId)}>
          {(stats) => {
            const byId = new Map(stats.data.map((row) => [row.endpointId, row]));
            if (endpoints.data.length === 0) return <p className="muted">No endpoints yet.</p>;
            return (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">URL</th>
                      <th scope="col">Status</th>
                      <th scope="col">Success (24 h)</th>
                      <th scope="col">Attempts (24 h)</th>
                      <th scope="col">Last attempt</th>
                    </tr>
                  </thead>
                  <tbody>
                    {endpoints.data.map((endpoint: EndpointOut) => {
                      const row = byId.get(endpoint.id);
                      return (
                        <tr key={endpoint.id}>
                          <td>
                            <Link href={endpointHref(appId, endpoint.id)} className="url">
                              {endpoint.url}
                            </Link>
                            {endpoint.description ? (
                              <div className="muted">{endpoint.description}</div>
                            ) : null}
                          </td>
                          <td>
                            {endpoint.disabled ? (
                              <Badge tone="bad">disabled</Badge>
                            ) : (
                              <Badge tone="ok">enabled</Badge>
                            )}
                          </td>
                          <td>{percent(row?.successRate)}</td>
                          <td>{row ? row.succeeded + row.failed : 0}</td>
                          <td>
                            <Time value={row?.lastAttemptAt} />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            );
          }}
        </QueryView>
      )}
    </QueryView>
  );
}

export function CreateEndpoint({ appId }: { appId: string }) {
  const api = useApi();
  const [, navigate] = useLocation();
  const create = useApiMutation(
    (input: { url: string; description: string }) =>
      api.post<EndpointOut>(`/app/${encodeURIComponent(appId)}/endpoint`, input),
    () => [keys.app(appId)],
    (endpoint) => navigate(endpointHref(appId, endpoint.id)),
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      url: String(form.get('url') ?? '').trim(),
      description: String(form.get('description') ?? '').trim(),
    });
  }
  return (
    <form className="stack" onSubmit={onSubmit}>
      <div className="fields">
        <div>
          <label htmlFor="new-endpoint-url">Endpoint URL</label>
          <input
            id="new-endpoint-url"
            name="url"
            type="url"
            required
            placeholder="https://example.com/webhooks"
          />
        </div>
        <div>
          <label htmlFor="new-endpoint-description">Description</label>
          <input id="new-endpoint-description" name="description" />
        </div>
        <div>
          <button type="submit" className="primary" disabled={create.isPending}>
            Add endpoint
          </button>
        </div>
      </div>
      <FormStatus error={create.error} />
    </form>
  );
}
