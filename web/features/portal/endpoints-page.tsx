import { useCan } from '../../app/app-context.tsx';
import type { PageProps } from '../../app/routes.ts';
import { Panel } from '../../components/panel.tsx';
import { CreateEndpoint, EndpointsTable } from '../applications/application-page.tsx';

/** The portal's home: the application's endpoints with a day's success rate, and adding one. */
export default function PortalEndpointsPage({ params }: PageProps) {
  const appId = params['appId'] ?? '';
  const can = useCan();
  return (
    <>
      <h1>Endpoints</h1>
      <p className="muted">
        Where your webhooks are sent. Open one to see its deliveries, secret and settings.
      </p>
      {can('ManageEndpoint') ? (
        <Panel title="Add an endpoint">
          <CreateEndpoint appId={appId} />
        </Panel>
      ) : null}
      <Panel title="Your endpoints">
        <EndpointsTable appId={appId} />
      </Panel>
    </>
  );
}
