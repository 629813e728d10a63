/**
 * OpenTelemetry tracing end to end: Hookyard processes export to a local OTLP/HTTP receiver, and the
 * spans' parent links are checked: the ingest span continues the caller's traceparent, each attempt is
 * in that trace (child of and linked to the ingest span), and the webhook receiver gets a traceparent
 * of the same trace; on PostgreSQL also with the API and the worker in separate processes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { createTestDatabase, skipWithoutPostgres, testDatabaseUrl } from '../helpers/postgres-database.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { type HookyardProcess, startHookyard, TEST_ADMIN_TOKEN, tempDir } from '../helpers/server-process.ts';

const SERVER = 2;
const CLIENT = 3;

function otelEnv(otlp: OtlpReceiver, serviceName: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: serviceName,
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
}

interface Caller {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceparent: string;
}

function callerTrace(): Caller {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

async function sendMessage(api: HookyardProcess, appId: string, traceparent: string): Promise<string> {
  const res = await fetch(`${api.url}/api/v1/app/${appId}/msg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json', traceparent },
    body: JSON.stringify({ eventType: 'order.paid', payload: { order: 1 } }),
  });
  assert.equal(res.status, 202, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

function traceOf(traceparent: string | string[] | undefined): { traceId: string; spanId: string } {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(String(traceparent));
  assert.ok(match, `a W3C traceparent: ${traceparent}`);
  return { traceId: match[1]!, spanId: match[2]! };
}

/** The checks both set-ups share; returns the attempt spans of the message, in arrival order. */
function checkTrace(
  otlp: OtlpReceiver,
  receiver: Receiver,
  caller: Caller,
  msgId: string,
  endpointId: string,
): { ingest: ReceivedSpan; attempts: ReceivedSpan[] } {
  const ingest = otlp.spans.find(
    (span) => span.name === 'hookyard.ingest' && span.traceId === caller.traceId,
  );
  assert.ok(ingest, 'an ingest span in the caller trace');
  assert.equal(ingest.parentSpanId, caller.spanId, "the ingest span's parent is the caller's span");
  assert.equal(ingest.kind, SERVER);
  assert.equal(ingest.attributes['hookyard.message.id'], msgId);

  const attempts = otlp.spans.filter(
    (span) => span.name === 'hookyard.attempt' && span.attributes['hookyard.message.id'] === msgId,
  );
  assert.ok(attempts.length > 0, 'an attempt span');
  for (const attempt of attempts) {
    assert.equal(attempt.kind, CLIENT);
    assert.equal(attempt.traceId, caller.traceId, 'the attempt is in the trace of the ingest request');
    assert.equal(attempt.parentSpanId, ingest.spanId, 'the attempt is a child of the ingest span');
    assert.deepEqual(attempt.links, [{ traceId: caller.traceId, spanId: ingest.spanId }], 'linked to ingest');
    assert.equal(attempt.attributes['hookyard.endpoint.id'], endpointId);
    assert.equal(typeof attempt.attributes['hookyard.attempt.duration_ms'], 'number');
  }

  const received = receiver.deliveries.filter((delivery) => delivery.headers['webhook-id'] === msgId);
  assert.equal(received.length, attempts.length, 'one request per attempt span');
  for (const delivery of received) {
    const seen = traceOf(delivery.headers.traceparent);
    assert.equal(seen.traceId, caller.traceId, "the receiver's traceparent is in the ingest trace");
    assert.ok(
      attempts.some((attempt) => attempt.spanId === seen.spanId),
      "the receiver's parent is that attempt's span",
    );
  }
  assert.ok(
    otlp.contentTypes.every((type) => type.startsWith('application/json')),
    'exported as OTLP/JSON',
  );
  return { ingest, attempts };
}

describe('tracing', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });

  async function start(env: Record<string, string>): Promise<HookyardProcess> {
    const process = await startHookyard(env);
    cleanups.push(() => process.kill());
    return process;
  }

  async function setUp(respond?: () => number) {
    const otlp = await startOtlpReceiver();
    cleanups.push(() => otlp.close());
    const receiver = await startReceiver(respond ? { respond } : {});
    cleanups.push(() => receiver.close());
    return { otlp, receiver };
  }

  async function appWithEndpoint(api: HookyardProcess, receiver: Receiver) {
    const app = await api.api<{ id: string }>('POST', '/api/v1/app', { name: 'traced' });
    const endpoint = await api.api<{ id: string }>('POST', `/api/v1/app/${app.body.id}/endpoint`, {
      url: `${receiver.url}/hook`,
    });
    return { appId: app.body.id, endpointId: endpoint.body.id };
  }

  it('embedded (SQLite): ingest continues the caller, the attempt and the receiver join its trace', async () => {
    const { otlp, receiver } = await setUp();
    const hookyard = await start({ HOOKYARD_DATA_DIR: tempDir(), ...otelEnv(otlp, 'hookyard-embedded') });
    const { appId, endpointId } = await appWithEndpoint(hookyard, receiver);
    const caller = callerTrace();
    const msgId = await sendMessage(hookyard, appId, caller.traceparent);

    await receiver.waitFor(() => receiver.counts.has(msgId));
    await otlp.waitFor(() =>
      otlp.spans.some((span) => span.name === 'hookyard.attempt' && span.traceId === caller.traceId),
    );
    const { attempts } = checkTrace(otlp, receiver, caller, msgId, endpointId);
    assert.equal(attempts[0]?.attributes['http.response.status_code'], 200);
    assert.equal(attempts[0]?.attributes['hookyard.attempt.outcome'], 'success');
    assert.ok(attempts.every((span) => span.serviceName === 'hookyard-embedded'));

    // Storage commits: the ingest transaction and the attempt's completion each have a span.
    await otlp.waitFor(() =>
      ['ingest', 'completion'].every((kind) =>
        otlp.spans.some(
          (span) => span.name === 'hookyard.commit' && span.attributes['hookyard.commit.kind'] === kind,
        ),
      ),
    );
    const commit = otlp.spans.find((span) => span.name === 'hookyard.commit');
    assert.ok(Number(commit?.attributes['hookyard.commit.size']) >= 1);

    // Without a traceparent from the caller, the ingest span starts a trace of its own, which the
    // receiver still joins.
    const second = await sendMessage(hookyard, appId, 'not-a-traceparent');
    await receiver.waitFor(() => receiver.counts.has(second));
    const seen = traceOf(
      receiver.deliveries.find((d) => d.headers['webhook-id'] === second)?.headers.traceparent,
    );
    await otlp.waitFor(() =>
      otlp.spans.some((span) => span.name === 'hookyard.ingest' && span.traceId === seen.traceId),
    );
    const own = otlp.spans.find((span) => span.name === 'hookyard.ingest' && span.traceId === seen.traceId);
    assert.equal(own?.parentSpanId, undefined, 'a new trace: the ingest span is its root');
  });

  it('without OTEL_* variables nothing is exported and deliveries carry no traceparent', async () => {
    const { otlp, receiver } = await setUp();
    const hookyard = await start({ HOOKYARD_DATA_DIR: tempDir(), OTEL_SERVICE_NAME: 'hookyard-off' });
    const { appId } = await appWithEndpoint(hookyard, receiver);
    const msgId = await sendMessage(hookyard, appId, callerTrace().traceparent);
    await receiver.waitFor(() => receiver.counts.has(msgId));
    assert.equal(receiver.deliveries[0]?.headers.traceparent, undefined);
    assert.equal(await hookyard.stop(), 0);
    assert.equal(otlp.contentTypes.length, 0, 'no export request at all');
  });

  it('fleet (PostgreSQL): a worker process continues the trace the api process started, on every retry', {
    skip: skipWithoutPostgres,
  }, async () => {
    let failFirst = true;
    const { otlp, receiver } = await setUp(() => {
      if (!failFirst) return 200;
      failFirst = false;
      return 500;
    });
    const db = await createTestDatabase(testDatabaseUrl!, 'tracing');
    cleanups.push(db.drop);
    const shared = { HOOKYARD_DATABASE_URL: db.url, HOOKYARD_RETRY_SCHEDULE: '1s' };
    const api = await start({ ...shared, HOOKYARD_ROLE: 'api', ...otelEnv(otlp, 'hookyard-api') });
    await start({ ...shared, HOOKYARD_ROLE: 'worker', ...otelEnv(otlp, 'hookyard-worker') });
    const { appId, endpointId } = await appWithEndpoint(api, receiver);
    const caller = callerTrace();
    const msgId = await sendMessage(api, appId, caller.traceparent);

    await receiver.waitFor(() => (receiver.counts.get(msgId) ?? 0) >= 2);
    const attemptsOf = () =>
      otlp.spans.filter((span) => span.name === 'hookyard.attempt' && span.traceId === caller.traceId);
    await otlp.waitFor(() => attemptsOf().length >= 2);
    const { ingest, attempts } = checkTrace(otlp, receiver, caller, msgId, endpointId);
    assert.equal(ingest.serviceName, 'hookyard-api');
    assert.ok(attempts.every((span) => span.serviceName === 'hookyard-worker'));
    assert.deepEqual(
      attempts.map((span) => [
        span.attributes['http.response.status_code'],
        span.attributes['hookyard.attempt.outcome'],
      ]),
      [
        [500, 'retryable'],
        [200, 'success'],
      ],
    );
  });
});
