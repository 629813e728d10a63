import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { keys, queries } from '../../api/queries.ts';
import type {
  EndpointHeadersOut,
  EndpointOut,
  EndpointSecretOut,
  EventTypeOut,
  MessageOut,
} from '../../api/types.ts';
import { useApi, useCan, useInPortal } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { Chart } from '../../components/chart.tsx';
import { ConfirmButton } from '../../components/confirm-button.tsx';
import { appHref, attemptHref, messageHref } from '../../components/endpoint-link.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { ms, percent } from '../../components/format.ts';
import { useApiMutation } from '../../components/mutation.ts';
import { Pager } from '../../components/pager.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Badge, StatusBadge } from '../../components/status-badge.tsx';
import { Time } from '../../components/time.tsx';
import { parseJsonObject, parseList } from './endpoint-form.ts';

/**
 * One endpoint: every setting, its health and traffic, its secret, its attempts, and the repairs
 * (test event, recover, replay). Enabling and disabling is optimistic: the badge flips at once and
 * flips back if the API refuses.
 */
export default function EndpointPage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const endpointId = params['endpointId'] ?? '';
  const api = useApi();
  const iterator = new URLSearchParams(useSearch()).get('iterator') ?? undefined;
  const base = `/app/${encodeURIComponent(appId)}/endpoint/${encodeURIComponent(endpointId)}`;
  const can = useCan();

  return (
    <>
      <QueryView query={queries.endpoint(api, appId, endpointId)}>
        {(endpoint) => <EndpointHeader appId={appId} endpoint={endpoint} base={base} />}
      </QueryView>
      <div className="grid">
        <Panel title="Health">
          <QueryView query={queries.endpointHealth(api, appId, endpointId)}>
            {(health) => (
              <dl className="kv">
                <dt>Circuit</dt>
                <dd>
                  {health.circuit === 'open' ? (
                    <Badge tone="bad">open</Badge>
                  ) : (
                    <Badge tone="ok">closed</Badge>
                  )}
                </dd>
                <dt>Failing since</dt>
                <dd>{health.failingSince ? <Time value={health.failingSince} /> : 'not failing'}</dd>
                <dt>Last success</dt>
                <dd>
                  <Time value={health.lastSuccessAt} />
                </dd>
                <dt>Unreachable streak</dt>
                <dd>{health.unreachableCount}</dd>
                <dt>Paused until</dt>
                <dd>{health.pausedUntil ? <Time value={health.pausedUntil} /> : 'not paused'}</dd>
                {health.nextProbeAt ? (
                  <>
                    <dt>Next probe</dt>
                    <dd>
                      <Time value={health.nextProbeAt} />
                    </dd>
                  </>
                ) : null}
              </dl>
            )}
          </QueryView>
        </Panel>
        {can('ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint') ? (
          <Panel title="Signing secret">
            <Secret base={base} appId={appId} endpointId={endpointId} />
          </Panel>
        ) : null}
      </div>
      <Panel title="Success and latency over the last day">
        <QueryView query={queries.series(api, appId, endpointId, '24h')}>
          {(series) => (
            <>
              <p className="muted">
                Success rate {percent(series.totals.successRate)} ({series.totals.succeeded} succeeded,{' '}
                {series.totals.failed} failed), p50 {ms(series.totals.p50LatencyMs)}, p99{' '}
                {ms(series.totals.p99LatencyMs)}, mean response {ms(series.totals.avgResponseMs)}.
              </p>
              <Chart series={series.series} kind="volume" label="Attempts per 15 minutes over the last day" />
              <Chart series={series.series} kind="latency" label="p50 and p99 latency per 15 minutes" />
            </>
          )}
        </QueryView>
      </Panel>
      <Panel title="Settings">
        <QueryView query={queries.endpoint(api, appId, endpointId)}>
          {(endpoint) => (
            <QueryView query={queries.eventTypes(api, false)}>
              {(catalog) => (
                <EndpointSettings endpoint={endpoint} catalog={catalog.data} base={base} appId={appId} />
              )}
            </QueryView>
          )}
        </QueryView>
      </Panel>
      <Panel title="Custom headers">
        <QueryView query={queries.endpointHeaders(api, appId, endpointId)}>
          {(headers) => <HeadersForm headers={headers} base={base} appId={appId} />}
        </QueryView>
      </Panel>
      {can('CreateAttempts') ? (
        <Panel title="Repairs">
          <QueryView query={queries.eventTypes(api, false)}>
            {(catalog) => <Repairs base={base} appId={appId} catalog={catalog.data} />}
          </QueryView>
        </Panel>
      ) : null}
      <Panel title="Attempts">
        <QueryView query={queries.endpointAttempts(api, appId, endpointId, iterator)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">No attempts yet.</p>
            ) : (
              <>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Attempt</th>
                        <th scope="col">Status</th>
                        <th scope="col">Response</th>
                        <th scope="col">Duration</th>
                        <th scope="col">Message</th>
                        <th scope="col">When</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((attempt) => (
                        <tr key={attempt.id}>
                          <td className="mono">
                            <Link href={attemptHref(appId, attempt.msgId, attempt.id)}>{attempt.id}</Link>
                          </td>
                          <td>
                            <StatusBadge status={attempt.status} />
                          </td>
                          <td>{attempt.responseStatusCode || 'no response'}</td>
                          <td>{ms(attempt.responseDurationMs)}</td>
                          <td className="mono">
                            <Link href={messageHref(appId, attempt.msgId)}>{attempt.msgId}</Link>
                          </td>
                          <td>
                            <Time value={attempt.timestamp} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager iterator={page.iterator} done={page.done} label="Attempts" />
              </>
            )
          }
        </QueryView>
      </Panel>
    </>
  );
}

function EndpointHeader({ appId, endpoint, base }: { appId: string; endpoint: EndpointOut; base: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const key = queries.endpoint(api, appId, endpoint.id).queryKey;
  const toggle = useMutation({
    mutationFn: (disabled: boolean) => api.patch<EndpointOut>(base, { disabled }),
    onMutate: async (disabled) => {
      await queryClient.cancelQueries({ queryKey: key });
      const previous = queryClient.getQueryData<EndpointOut>(key);
      if (previous) queryClient.setQueryData<EndpointOut>(key, { ...previous, disabled });
      return { previous };
    },
    onError: (_error, _disabled, context) => {
      if (context?.previous) queryClient.setQueryData(key, context.previous);
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.app(appId) }),
  });
  const remove = useApiMutation(
    () => api.delete(base),
    () => [keys.app(appId)],
    () => navigate(appHref(appId)),
  );
  const manage = useCan()('ManageEndpoint');
  return (
    <>
      <p className="muted crumbs">
        {useInPortal() ? (
          <Link href={appHref(appId)}>Endpoints</Link>
        ) : (
          <>
            <Link href="/apps">Applications</Link> / <Link href={appHref(appId)}>{appId}</Link>
          </>
        )}{' '}
        /
      </p>
      <h1 className="url">{endpoint.url}</h1>
      <div className="actions page-actions">
        {endpoint.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">enabled</Badge>}
        {!manage ? null : endpoint.disabled ? (
          <button type="button" onClick={() => toggle.mutate(false)} disabled={toggle.isPending}>
            Enable endpoint
          </button>
        ) : (
          <ConfirmButton
            label="Disable endpoint"
            question="Stop delivering to this endpoint?"
            confirmLabel="Disable"
            onConfirm={() => toggle.mutate(true)}
          />
        )}
        {manage ? (
          <ConfirmButton
            label="Delete endpoint"
            question="Delete this endpoint and its delivery history?"
            confirmLabel="Delete"
            onConfirm={() => remove.mutate(undefined)}
          />
        ) : null}
        <span className="mono muted">{endpoint.id}</span>
      </div>
      <FormStatus error={toggle.error ?? remove.error} />
    </>
  );
}

function Secret({ base, appId, endpointId }: { base: string; appId: string; endpointId: string }) {
  const api = useApi();
  const [secret, setSecret] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: () => api.get<EndpointSecretOut>(`${base}/secret`),
    onSuccess: (out) => setSecret(out.key),
  });
  const rotate = useApiMutation(
    () => api.post<void>(`${base}/secret/rotate`, {}),
    () => [[...keys.app(appId), 'endpoint', endpointId]],
    () => setSecret(null),
  );
  const canRotate = useCan()('ManageEndpointSecret', 'ManageEndpoint');
  const canView = useCan()('ViewEndpointSecret', 'ManageEndpointSecret', 'ManageEndpoint');
  return (
    <div className="stack">
      {secret ? (
        <p>
          <span className="muted">Signing secret: </span>
          <code className="url">{secret}</code>
        </p>
      ) : (
        <p className="muted">Hidden. Receivers verify signatures with it.</p>
      )}
      <div className="actions">
        {secret ? (
          <button type="button" onClick={() => setSecret(null)}>
            Hide secret
          </button>
        ) : canView ? (
          <button type="button" onClick={() => reveal.mutate()} disabled={reveal.isPending}>
            Reveal secret
          </button>
        ) : null}
        {secret && typeof navigator !== 'undefined' && navigator.clipboard ? (
          <button type="button" onClick={() => void navigator.clipboard.writeText(secret)}>
            Copy secret
          </button>
        ) : null}
        {canRotate ? (
          <ConfirmButton
            label="Rotate secret"
            question="Rotate? The old secret keeps working for 24 hours."
            confirmLabel="Rotate"
            onConfirm={() => rotate.mutate(undefined)}
          />
        ) : null}
      </div>
      <FormStatus error={reveal.error ?? rotate.error} success={rotate.isSuccess ? 'Rotated.' : null} />
    </div>
  );
}

function EndpointSettings(props: {
  endpoint: EndpointOut;
  catalog: EventTypeOut[];
  base: string;
  appId: string;
}) {
  const { endpoint } = props;
  const api = useApi();
  const [problem, setProblem] = useState<string | null>(null);
  const save = useApiMutation(
    (input: Record<string, unknown>) => api.patch<EndpointOut>(props.base, input),
    () => [keys.app(props.appId)],
  );
  const selected = new Set(endpoint.filterTypes ?? []);
  const manage = useCan()('ManageEndpoint');
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const metadata = parseJsonObject(String(form.get('metadata') ?? ''));
    if (!metadata.ok) return setProblem(`Metadata: ${metadata.message}.`);
    setProblem(null);
    const types = form.getAll('eventTypes').map(String);
    const rate = String(form.get('rateLimit') ?? '').trim();
    save.mutate({
      url: String(form.get('url') ?? '').trim(),
      description: String(form.get('description') ?? ''),
      filterTypes: types.length === 0 ? null : types,
      channels: parseList(String(form.get('channels') ?? '')),
      rateLimit: rate === '' ? null : Number(rate),
      metadata: metadata.value,
    });
  }
  return (
    <form className="stack" onSubmit={onSubmit} key={endpoint.updatedAt}>
      <div className="fields">
        <div>
          <label htmlFor="endpoint-url">URL</label>
          <input id="endpoint-url" name="url" type="url" required defaultValue={endpoint.url} />
        </div>
        <div>
          <label htmlFor="endpoint-description">Description</label>
          <input id="endpoint-description" name="description" defaultValue={endpoint.description} />
        </div>
        <div>
          <label htmlFor="endpoint-channels">Channels (comma-separated, empty = all)</label>
          <input id="endpoint-channels" name="channels" defaultValue={(endpoint.channels ?? []).join(', ')} />
        </div>
        <div>
          <label htmlFor="endpoint-rate">Rate limit (per second, empty = none)</label>
          <input
            id="endpoint-rate"
            name="rateLimit"
            type="number"
            min={1}
            max={65535}
            defaultValue={endpoint.rateLimit ?? ''}
          />
        </div>
      </div>
      <fieldset className="plain">
        <legend>Event types (none ticked = every type)</legend>
        {props.catalog.length === 0 ? (
          <p className="muted">The catalog is empty: this endpoint receives every event type.</p>
        ) : (
          <div className="checks">
            {props.catalog.map((type) => (
              <label key={type.name} className="check">
                <input
                  type="checkbox"
                  name="eventTypes"
                  value={type.name}
                  defaultChecked={selected.has(type.name)}
                />
                {type.name}
                {type.description ? <span className="muted"> · {type.description}</span> : null}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <div>
        <label htmlFor="endpoint-metadata">Metadata (JSON object of strings)</label>
        <textarea
          id="endpoint-metadata"
          name="metadata"
          defaultValue={JSON.stringify(endpoint.metadata, null, 2)}
        />
      </div>
      {manage ? (
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            Save endpoint
          </button>
        </div>
      ) : null}
      <FormStatus
        error={problem ? { message: problem } : save.error}
        success={save.isSuccess ? 'Saved.' : null}
      />
    </form>
  );
}

function HeadersForm({ headers, base, appId }: { headers: EndpointHeadersOut; base: string; appId: string }) {
  const api = useApi();
  const [problem, setProblem] = useState<string | null>(null);
  const save = useApiMutation(
    (input: { headers: Record<string, string | null> }) => api.patch<void>(`${base}/headers`, input),
    () => [keys.app(appId)],
  );
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseJsonObject(String(new FormData(event.currentTarget).get('headers') ?? ''));
    if (!parsed.ok) return setProblem(`Headers: ${parsed.message}.`);
    setProblem(null);
    // A header left out of the text is removed; sensitive ones (not shown) are kept.
    const changes: Record<string, string | null> = { ...parsed.value };
    for (const name of Object.keys(headers.headers)) if (!(name in parsed.value)) changes[name] = null;
    save.mutate({ headers: changes });
  }
  return (
    <form className="stack" onSubmit={onSubmit} key={JSON.stringify(headers)}>
      <div>
        <label htmlFor="endpoint-headers">Headers sent with every request (JSON object)</label>
        <textarea
          id="endpoint-headers"
          name="headers"
          defaultValue={JSON.stringify(headers.headers, null, 2)}
        />
      </div>
      {headers.sensitive.length > 0 ? (
        <p className="muted">Also set, values hidden: {headers.sensitive.join(', ')}.</p>
      ) : null}
      {useCan()('ManageEndpoint') ? (
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            Save headers
          </button>
        </div>
      ) : null}
      <FormStatus
        error={problem ? { message: problem } : save.error}
        success={save.isSuccess ? 'Saved.' : null}
      />
    </form>
  );
}

/** A `datetime-local` value (browser zone) as ISO 8601. */
function isoFromLocal(value: FormDataEntryValue | null): string | null {
  const text = String(value ?? '').trim();
  if (!text) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function Repairs({ base, appId, catalog }: { base: string; appId: string; catalog: EventTypeOut[] }) {
  const api = useApi();
  const [sent, setSent] = useState<MessageOut | null>(null);
  const test = useApiMutation(
    (eventType: string) => api.post<MessageOut>(`${base}/send-example`, { eventType }),
    () => [keys.app(appId)],
    (message) => setSent(message),
  );
  const recover = useApiMutation(
    (since: string) => api.post<unknown>(`${base}/recover`, { since }),
    () => [keys.app(appId)],
  );
  const replay = useApiMutation(
    (range: { since: string; until: string | null }) =>
      api.post<{ replayed: number }>(`${base}/replay`, range),
    () => [keys.app(appId)],
  );
  return (
    <div className="grid">
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          test.mutate(String(new FormData(event.currentTarget).get('eventType') ?? ''));
        }}
      >
        <h3>Send a test event</h3>
        <div>
          <label htmlFor="test-event-type">Event type</label>
          {catalog.length > 0 ? (
            <select id="test-event-type" name="eventType">
              {catalog.map((type) => (
                <option key={type.name}>{type.name}</option>
              ))}
            </select>
          ) : (
            <input id="test-event-type" name="eventType" required defaultValue="hookyard.test" />
          )}
        </div>
        <div>
          <button type="submit" disabled={test.isPending}>
            Send test event
          </button>
        </div>
        <FormStatus error={test.error} />
        {sent ? (
          <p role="status">
            Sent <Link href={messageHref(appId, sent.id)}>{sent.id}</Link>.
          </p>
        ) : null}
      </form>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          const since = isoFromLocal(new FormData(event.currentTarget).get('since'));
          if (since) recover.mutate(since);
        }}
      >
        <h3>Recover failed messages</h3>
        <div>
          <label htmlFor="recover-since">Failed since</label>
          <input id="recover-since" name="since" type="datetime-local" required />
        </div>
        <div>
          <button type="submit" disabled={recover.isPending}>
            Recover
          </button>
        </div>
        <FormStatus
          error={recover.error}
          success={recover.isSuccess ? 'Failed deliveries re-queued.' : null}
        />
      </form>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const since = isoFromLocal(form.get('since'));
          if (since) replay.mutate({ since, until: isoFromLocal(form.get('until')) });
        }}
      >
        <h3>Replay a time range</h3>
        <div>
          <label htmlFor="replay-since">From</label>
          <input id="replay-since" name="since" type="datetime-local" required />
        </div>
        <div>
          <label htmlFor="replay-until">Until (empty = now)</label>
          <input id="replay-until" name="until" type="datetime-local" />
        </div>
        <div>
          <button type="submit" disabled={replay.isPending}>
            Replay
          </button>
        </div>
        <FormStatus
          error={replay.error}
          success={replay.data ? `${replay.data.replayed} deliveries re-queued.` : null}
        />
      </form>
    </div>
  );
}
