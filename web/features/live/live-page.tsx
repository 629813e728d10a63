import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { attemptHref, messageHref } from '../../components/endpoint-link.tsx';
import { ms } from '../../components/format.ts';
import { Panel } from '../../components/panel.tsx';
import { StatusBadge } from '../../components/status-badge.tsx';
import { Time } from '../../components/time.tsx';

interface LiveMessage {
  kind: 'message';
  id: string;
  appId: string;
  eventType: string;
  timestamp: string;
}
interface LiveAttempt {
  kind: 'attempt';
  id: string;
  appId: string;
  msgId: string;
  url: string;
  status: number;
  responseStatusCode: number;
  responseDurationMs: number;
  timestamp: string;
}
type LiveEvent = LiveMessage | LiveAttempt;

const KEEP = 200;

/**
 * The live tail: new messages and attempts as server-sent events from /api/v1/stream. Paused by
 * default (an open dashboard tab costs nothing until asked); the newest 200 events are kept.
 */
export default function LivePage() {
  const [running, setRunning] = useState(false);
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [state, setState] = useState<'paused' | 'connecting' | 'live' | 'reconnecting'>('paused');

  useEffect(() => {
    if (!running) {
      setState('paused');
      return;
    }
    setState('connecting');
    const source = new EventSource('/api/v1/stream');
    const push = (kind: LiveEvent['kind']) => (event: MessageEvent<string>) => {
      const data = { kind, ...(JSON.parse(event.data) as object) } as LiveEvent;
      setEvents((list) => [data, ...list].slice(0, KEEP));
    };
    source.addEventListener('open', () => setState('live'));
    source.addEventListener('error', () => setState('reconnecting'));
    source.addEventListener('message', push('message'));
    source.addEventListener('attempt', push('attempt'));
    return () => source.close();
  }, [running]);

  return (
    <>
      <h1>Live tail</h1>
      <Panel
        title="Incoming messages and attempts"
        actions={
          <>
            <span className="muted" role="status">
              {state === 'paused'
                ? 'Paused'
                : state === 'live'
                  ? 'Live'
                  : state === 'connecting'
                    ? 'Connecting…'
                    : 'Reconnecting…'}
            </span>
            <button type="button" className={running ? '' : 'primary'} onClick={() => setRunning(!running)}>
              {running ? 'Pause' : 'Start live tail'}
            </button>
            <button type="button" onClick={() => setEvents([])} disabled={events.length === 0}>
              Clear
            </button>
          </>
        }
      >
        <noscript>
          <p>
            The live tail streams events into the page and needs JavaScript. The message explorer works
            without it.
          </p>
        </noscript>
        {events.length === 0 ? (
          <p className="muted">
            {running
              ? 'Waiting for messages and attempts…'
              : 'Paused. Start the live tail to follow traffic as it happens.'}
          </p>
        ) : (
          <ul className="feed" aria-live="polite" aria-label="Live events, newest first">
            {events.map((event) =>
              event.kind === 'message' ? (
                <li key={`m-${event.id}`}>
                  <strong>Message</strong>
                  <Link href={messageHref(event.appId, event.id)} className="mono">
                    {event.id}
                  </Link>
                  <span>{event.eventType}</span>
                  <span className="muted">{event.appId}</span>
                  <Time value={event.timestamp} />
                </li>
              ) : (
                <li key={`a-${event.id}`}>
                  <strong>Attempt</strong>
                  <StatusBadge status={event.status} />
                  <Link href={attemptHref(event.appId, event.msgId, event.id)} className="mono">
                    {event.id}
                  </Link>
                  <span>{event.responseStatusCode || 'no response'}</span>
                  <span>{ms(event.responseDurationMs)}</span>
                  <span className="url muted">{event.url}</span>
                  <Time value={event.timestamp} />
                </li>
              ),
            )}
          </ul>
        )}
      </Panel>
    </>
  );
}
