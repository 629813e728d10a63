import { queries } from '../../api/queries.ts';
import type { EventTypeOut } from '../../api/types.ts';
import { useApi } from '../../app/app-context.tsx';
import { JsonView } from '../../components/json-view.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Badge } from '../../components/status-badge.tsx';

function schemaOf(type: EventTypeOut): Record<string, unknown> | undefined {
  return type.schemas?.['1'] as Record<string, unknown> | undefined;
}

/** The event types an endpoint can subscribe to, each with its description, schema and example. */
export default function PortalEventCatalogPage() {
  const api = useApi();
  return (
    <>
      <h1>Event catalog</h1>
      <Panel title="Event types">
        <QueryView query={queries.eventTypes(api, false)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">No event types are listed: endpoints receive every event.</p>
            ) : (
              <ul className="catalog">
                {page.data.map((type) => {
                  const schema = schemaOf(type);
                  const examples = Array.isArray(schema?.['examples'])
                    ? (schema['examples'] as unknown[])
                    : [];
                  return (
                    <li key={type.name} className="catalog-item">
                      <div className="panel-head">
                        <h3 className="mono">{type.name}</h3>
                        {type.deprecated ? <Badge tone="warn">deprecated</Badge> : null}
                      </div>
                      {type.description ? <p>{type.description}</p> : null}
                      {examples.length > 0 ? (
                        <>
                          <h4>Example</h4>
                          <JsonView value={examples[0]} label={`Example of ${type.name}`} />
                        </>
                      ) : null}
                      {schema ? (
                        <details>
                          <summary>Schema</summary>
                          <JsonView value={schema} label={`Schema of ${type.name}`} />
                        </details>
                      ) : (
                        <p className="muted">No schema.</p>
                      )}
                    </li>
                  );
                })}
              </ul>
            )
          }
        </QueryView>
      </Panel>
    </>
  );
}
