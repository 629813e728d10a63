import { queries } from '../../api/queries.ts';
import { useApi } from '../../app/app-context.tsx';
import { Chart } from '../../components/chart.tsx';
import { EndpointLink } from '../../components/endpoint-link.tsx';
import { count, ms, percent } from '../../components/format.ts';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Time } from '../../components/time.tsx';
import type { EndpointAlertOut, StatsTotalsView } from './overview-types.ts';

/** A count the server stopped at `limit`: "10,000+". */
function atLeast(value: number, limit: number): string {
  return value >= limit ? `${count(limit)}+` : count(value);
}

/** The server at a glance: flow, latency, backlog, and the endpoints that need someone. */
export default function OverviewPage() {
  const api = useApi();
  const overview = queries.overview(api);
  return (
    <>
      <h1>Overview</h1>
      <div className="grid">
        <Panel title="Last hour">
          <QueryView query={overview}>{(data) => <Totals totals={data.lastHour.totals} />}</QueryView>
        </Panel>
        <Panel title="Last day">
          <QueryView query={overview}>{(data) => <Totals totals={data.lastDay} />}</QueryView>
        </Panel>
        <Panel title="Backlog">
          <QueryView query={overview}>
            {(data) => (
              <dl className="figures">
                <div>
                  <dt>Due now</dt>
                  <dd>{atLeast(data.backlog.due, data.backlog.countLimit)}</dd>
                </div>
                <div>
                  <dt>Scheduled retries</dt>
                  <dd>{atLeast(data.backlog.scheduledRetries, data.backlog.countLimit)}</dd>
                </div>
              </dl>
            )}
          </QueryView>
        </Panel>
      </div>
      <Panel title="Deliveries per minute">
        <QueryView query={overview}>
          {(data) => (
            <Chart
              series={data.lastHour.series}
              kind="volume"
              label="Attempts per minute over the last hour"
            />
          )}
        </QueryView>
      </Panel>
      <Panel title="Latency per minute (accepted → delivered)">
        <QueryView query={overview}>
          {(data) => (
            <Chart series={data.lastHour.series} kind="latency" label="p50 and p99 latency per minute" />
          )}
        </QueryView>
      </Panel>
      <div className="grid">
        <Panel title="Failing endpoints">
          <QueryView query={overview}>
            {(data) => (
              <Alerts alerts={data.failingEndpoints} empty="No endpoint is failing." since="Failing since" />
            )}
          </QueryView>
        </Panel>
        <Panel title="Open circuits">
          <QueryView query={overview}>
            {(data) => (
              <Alerts alerts={data.openCircuits} empty="No circuit is open." since="Failing since" />
            )}
          </QueryView>
        </Panel>
        <Panel title="Disabled endpoints">
          <QueryView query={overview}>
            {(data) => (
              <Alerts alerts={data.disabledEndpoints} empty="No endpoint is disabled." since="Changed" />
            )}
          </QueryView>
        </Panel>
      </div>
    </>
  );
}

function Totals({ totals }: { totals: StatsTotalsView }) {
  return (
    <dl className="figures">
      <div>
        <dt>Succeeded</dt>
        <dd>{count(totals.succeeded)}</dd>
      </div>
      <div>
        <dt>Failed</dt>
        <dd>{count(totals.failed)}</dd>
      </div>
      <div>
        <dt>Success rate</dt>
        <dd>{percent(totals.successRate)}</dd>
      </div>
      <div>
        <dt>p50 latency</dt>
        <dd>{ms(totals.p50LatencyMs)}</dd>
      </div>
      <div>
        <dt>p99 latency</dt>
        <dd>{ms(totals.p99LatencyMs)}</dd>
      </div>
    </dl>
  );
}

function Alerts({ alerts, empty, since }: { alerts: EndpointAlertOut[]; empty: string; since: string }) {
  if (alerts.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="alerts">
      {alerts.map((alert) => (
        <li key={alert.endpointId}>
          <EndpointLink appId={alert.appId} endpointId={alert.endpointId} url={alert.url} />
          <span className="muted">
            {' '}
            {since} <Time value={alert.since} />
          </span>
        </li>
      ))}
    </ul>
  );
}
