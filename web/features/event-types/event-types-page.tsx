import { type FormEvent, useState } from 'react';
import { Link, useSearch } from 'wouter';
import { queries } from '../../api/queries.ts';
import type { EventTypeOut } from '../../api/types.ts';
import { useApi } from '../../app/app-context.tsx';
import { ConfirmButton } from '../../components/confirm-button.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { JsonView } from '../../components/json-view.tsx';
import { useApiMutation } from '../../components/mutation.ts';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Badge } from '../../components/status-badge.tsx';

type Schemas = EventTypeOut['schemas'];

function parseSchema(text: string): { ok: true; value: Schemas } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return { ok: false, message: 'The schema must be a JSON object (a JSON Schema).' };
    return { ok: true, value: { '1': value as Record<string, unknown> } };
  } catch {
    return { ok: false, message: 'The schema is not valid JSON.' };
  }
}

function examplesOf(schemas: Schemas): unknown[] {
  const schema = schemas?.['1'] as { examples?: unknown } | undefined;
  return Array.isArray(schema?.examples) ? schema.examples : [];
}

/** The event-type catalog: each type's schema and examples; create, edit, archive (and restore). */
export default function EventTypesPage() {
  const api = useApi();
  const archived = new URLSearchParams(useSearch()).get('archived') === '1';
  const [problem, setProblem] = useState<string | null>(null);
  const create = useApiMutation(
    (input: { name: string; description: string; schemas: Schemas }) =>
      api.post<EventTypeOut>('/event-type', input),
    () => [['event-types']],
  );
  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const schema = parseSchema(String(form.get('schema') ?? ''));
    if (!schema.ok) return setProblem(schema.message);
    setProblem(null);
    create.mutate(
      {
        name: String(form.get('name') ?? '').trim(),
        description: String(form.get('description') ?? ''),
        schemas: schema.value,
      },
      { onSuccess: () => element.reset() },
    );
  }
  return (
    <>
      <h1>Event types</h1>
      <Panel
        title="Catalog"
        actions={
          archived ? (
            <Link href="/event-types">Hide archived</Link>
          ) : (
            <Link href="/event-types?archived=1">Show archived</Link>
          )
        }
      >
        <QueryView query={queries.eventTypes(api, archived)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">The catalog is empty. Endpoints then receive every event type.</p>
            ) : (
              <ul className="catalog">
                {page.data.map((type) => (
                  <EventTypeItem key={type.name} type={type} />
                ))}
              </ul>
            )
          }
        </QueryView>
      </Panel>
      <Panel title="Add an event type">
        <form className="stack" onSubmit={onCreate}>
          <div className="fields">
            <div>
              <label htmlFor="new-type-name">Name</label>
              <input
                id="new-type-name"
                name="name"
                required
                pattern="[a-zA-Z0-9\-_.]+"
                placeholder="invoice.paid"
              />
            </div>
            <div>
              <label htmlFor="new-type-description">Description</label>
              <input id="new-type-description" name="description" />
            </div>
          </div>
          <div>
            <label htmlFor="new-type-schema">
              JSON Schema (optional; put examples in its "examples" array)
            </label>
            <textarea id="new-type-schema" name="schema" />
          </div>
          <div>
            <button type="submit" className="primary" disabled={create.isPending}>
              Add event type
            </button>
          </div>
          <FormStatus error={problem ? { message: problem } : create.error} />
        </form>
      </Panel>
    </>
  );
}

function EventTypeItem({ type }: { type: EventTypeOut }) {
  const api = useApi();
  const [editing, setEditing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const path = `/event-type/${encodeURIComponent(type.name)}`;
  const patch = useApiMutation(
    (input: Record<string, unknown>) => api.patch<EventTypeOut>(path, input),
    () => [['event-types']],
    () => setEditing(false),
  );
  const examples = examplesOf(type.schemas);
  function onSave(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const schema = parseSchema(String(form.get('schema') ?? ''));
    if (!schema.ok) return setProblem(schema.message);
    setProblem(null);
    patch.mutate({ description: String(form.get('description') ?? ''), schemas: schema.value });
  }
  return (
    <li className="catalog-item">
      <div className="panel-head">
        <h3 className="mono">{type.name}</h3>
        <div className="actions">
          {type.archived ? <Badge tone="muted">archived</Badge> : null}
          {type.deprecated ? <Badge tone="warn">deprecated</Badge> : null}
          <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {editing ? 'Cancel editing' : 'Edit'}
          </button>
          {type.archived ? (
            <button type="button" onClick={() => patch.mutate({ archived: false })}>
              Restore
            </button>
          ) : (
            <ConfirmButton
              label="Archive"
              question={`Archive ${type.name}? It leaves the catalog; messages of it still flow.`}
              confirmLabel="Archive"
              onConfirm={() => patch.mutate({ archived: true })}
            />
          )}
        </div>
      </div>
      {type.description ? <p>{type.description}</p> : <p className="muted">No description.</p>}
      {editing ? (
        <form className="stack" onSubmit={onSave}>
          <div>
            <label htmlFor={`desc-${type.name}`}>Description</label>
            <input id={`desc-${type.name}`} name="description" defaultValue={type.description} />
          </div>
          <div>
            <label htmlFor={`schema-${type.name}`}>JSON Schema</label>
            <textarea
              id={`schema-${type.name}`}
              name="schema"
              defaultValue={type.schemas?.['1'] ? JSON.stringify(type.schemas['1'], null, 2) : ''}
            />
          </div>
          <div>
            <button type="submit" className="primary" disabled={patch.isPending}>
              Save event type
            </button>
          </div>
        </form>
      ) : null}
      <FormStatus error={problem ? { message: problem } : patch.error} />
      {type.schemas?.['1'] ? (
        <details>
          <summary>Schema</summary>
          <JsonView value={type.schemas['1']} label={`Schema of ${type.name}`} />
        </details>
      ) : null}
      {examples.length > 0 ? (
        <details>
          <summary>
            {examples.length} example{examples.length === 1 ? '' : 's'}
          </summary>
          {examples.map((example, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: examples have no identity but their position
            <JsonView key={index} value={example} label={`Example ${index + 1} of ${type.name}`} />
          ))}
        </details>
      ) : null}
    </li>
  );
}
