import type { FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { queries } from '../../api/queries.ts';
import type { ApplicationOut } from '../../api/types.ts';
import { useApi } from '../../app/app-context.tsx';
import { appHref } from '../../components/endpoint-link.tsx';
import { FormStatus } from '../../components/form-status.tsx';
import { useApiMutation } from '../../components/mutation.ts';
import { Pager } from '../../components/pager.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Time } from '../../components/time.tsx';

/** Applications: search by name or uid (in the URL), create, and open one. */
export default function ApplicationsPage() {
  const api = useApi();
  const [, navigate] = useLocation();
  const search = new URLSearchParams(useSearch());
  const term = search.get('search') ?? '';
  const iterator = search.get('iterator') ?? undefined;

  const create = useApiMutation(
    (input: { name: string; uid: string | null }) => api.post<ApplicationOut>('/app', input),
    () => [['apps', 'list']],
    (created) => navigate(appHref(created.id)),
  );

  function onSearch(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get('search') ?? '').trim();
    navigate(value ? `/apps?search=${encodeURIComponent(value)}` : '/apps');
  }

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const uid = String(form.get('uid') ?? '').trim();
    create.mutate({ name: String(form.get('name') ?? '').trim(), uid: uid === '' ? null : uid });
  }

  return (
    <>
      <h1>Applications</h1>
      <Panel title="Find">
        <form method="get" action="/ui/apps" className="fields" onSubmit={onSearch}>
          <div>
            <label htmlFor="app-search">Name or uid contains</label>
            <input id="app-search" name="search" type="search" defaultValue={term} key={term} />
          </div>
          <div>
            <button type="submit">Search</button>
          </div>
        </form>
      </Panel>
      <Panel title={term ? `Applications matching “${term}”` : 'All applications'}>
        <QueryView query={queries.applications(api, term, iterator)}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="muted">
                {term ? 'No application matches.' : 'No applications yet: create one below.'}
              </p>
            ) : (
              <>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Name</th>
                        <th scope="col">Uid</th>
                        <th scope="col">Id</th>
                        <th scope="col">Created</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((app) => (
                        <tr key={app.id}>
                          <td>
                            <Link href={appHref(app.id)}>{app.name}</Link>
                          </td>
                          <td className="mono">{app.uid ?? '—'}</td>
                          <td className="mono">{app.id}</td>
                          <td>
                            <Time value={app.createdAt} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager iterator={page.iterator} done={page.done} label="Applications" />
              </>
            )
          }
        </QueryView>
      </Panel>
      <Panel title="Create an application">
        <form className="stack" onSubmit={onCreate}>
          <div className="fields">
            <div>
              <label htmlFor="new-app-name">Name</label>
              <input id="new-app-name" name="name" required maxLength={1024} />
            </div>
            <div>
              <label htmlFor="new-app-uid">Uid (optional)</label>
              <input id="new-app-uid" name="uid" pattern="[a-zA-Z0-9\-_.]+" maxLength={256} />
            </div>
            <div>
              <button type="submit" className="primary" disabled={create.isPending}>
                Create application
              </button>
            </div>
          </div>
          <FormStatus error={create.error} />
        </form>
      </Panel>
    </>
  );
}
