import type { FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { queries } from '../../api/queries.ts';
import { useApi } from '../../app/app-context.tsx';
import { messageHref } from '../../components/endpoint-link.tsx';
import { Pager } from '../../components/pager.tsx';
import { Panel, QueryView } from '../../components/panel.tsx';
import { Time } from '../../components/time.tsx';
import { explorerFilters, FILTER_KEYS } from './explorer-filters.ts';

const STATUSES = [
  ['', 'Any'],
  ['0', 'Succeeded'],
  ['2', 'Failed'],
  ['3', 'Retrying'],
  ['1', 'Pending'],
] as const;

/**
 * The message explorer: one box finds a message by id or eventId at once; the filters narrow the
 * newest-first list. Every filter is in the URL, so a filtered view is a link (and the form works as
 * a plain GET without JavaScript).
 */
export default function ExplorerPage() {
  const api = useApi();
  const [, navigate] = useLocation();
  const search = new URLSearchParams(useSearch());
  const filters = explorerFilters(search);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) {
      if (key === 'iterator') continue;
      const value = String(form.get(key) ?? '').trim();
      if (value) next.set(key, value);
    }
    const text = next.toString();
    navigate(text ? `/messages?${text}` : '/messages');
  }

  return (
    <>
      <h1>Messages</h1>
      <Panel title="Find and filter">
        <form
          method="get"
          action="/ui/messages"
          className="stack"
          onSubmit={onSubmit}
          key={search.toString()}
        >
          <div className="fields">
            <div>
              <label htmlFor="explorer-q">Message id or event id</label>
              <input id="explorer-q" name="q" type="search" defaultValue={filters.q ?? ''} />
            </div>
            <div>
              <label htmlFor="explorer-app">Application (id or uid)</label>
              <input id="explorer-app" name="app" defaultValue={filters.app ?? ''} />
            </div>
            <div>
              <label htmlFor="explorer-type">Event type</label>
              <input id="explorer-type" name="eventType" defaultValue={filters.eventType ?? ''} />
            </div>
            <div>
              <label htmlFor="explorer-channel">Channel</label>
              <input id="explorer-channel" name="channel" defaultValue={filters.channel ?? ''} />
            </div>
            <div>
              <label htmlFor="explorer-status">Delivery status</label>
              <select id="explorer-status" name="status" defaultValue={filters.status ?? ''}>
                {STATUSES.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label htmlFor="explorer-after">After</label>
              <input
                id="explorer-after"
                name="after"
                type="datetime-local"
                defaultValue={filters.after ?? ''}
              />
            </div>
            <div>
              <label htmlFor="explorer-before">Before</label>
              <input
                id="explorer-before"
                name="before"
                type="datetime-local"
                defaultValue={filters.before ?? ''}
              />
            </div>
          </div>
          <div className="actions">
            <button type="submit" className="primary">
              Search messages
            </button>
            <Link href="/messages">Clear filters</Link>
          </div>
        </form>
      </Panel>
      <Panel title={filters.q ? `Messages with id or event id “${filters.q}”` : 'Messages, newest first'}>
        <QueryView query={queries.explorer(api, filters)}>
          {(page) => (
            <>
              {page.partial ? (
                <p className="muted" role="status">
                  {page.data.length === 0 ? 'No match' : `${page.data.length} matches`} among the 10,000
                  messages looked at for this page; older messages are on the next page.
                </p>
              ) : page.data.length === 0 ? (
                <p className="muted">No message matches.</p>
              ) : null}
              {page.data.length > 0 ? (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Message</th>
                        <th scope="col">Application</th>
                        <th scope="col">Event type</th>
                        <th scope="col">Event id</th>
                        <th scope="col">Channels</th>
                        <th scope="col">Received</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.map((message) => (
                        <tr key={message.id}>
                          <td className="mono">
                            <Link href={messageHref(message.appId, message.id)}>{message.id}</Link>
                          </td>
                          <td className="mono">
                            <Link href={`/apps/${encodeURIComponent(message.appId)}`}>{message.appId}</Link>
                          </td>
                          <td>{message.eventType}</td>
                          <td className="mono">{message.eventId ?? '—'}</td>
                          <td>{message.channels?.join(', ') ?? '—'}</td>
                          <td>
                            <Time value={message.timestamp} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : null}
              <Pager iterator={page.iterator} done={page.done} label="Messages" />
            </>
          )}
        </QueryView>
      </Panel>
    </>
  );
}
