import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log/logger.ts';
import { tracingOptions } from '../../src/tracing/tracing-options.ts';
import { tempDir } from '../helpers/server-process.ts';

describe('tracing options (OTEL_* variables)', () => {
  it('is off unless an OTLP endpoint or the otlp exporter is asked for', () => {
    assert.equal(tracingOptions({}), undefined);
    assert.equal(tracingOptions({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), undefined);
    assert.equal(tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), undefined);
    assert.equal(
      tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
      undefined,
    );
    assert.equal(
      tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }),
      undefined,
    );
  });

  it('takes the signal endpoint as given and adds /v1/traces to the general one', () => {
    const general = tracingOptions({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.equal(general?.url, 'http://collector:4318/v1/traces');
    assert.equal(general?.serviceName, 'hookyard');
    assert.equal(general?.sampler, 'parentbased_always_on');
    assert.ok(Object.isFrozen(general));
    const signal = tracingOptions({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/custom',
    });
    assert.equal(signal?.url, 'https://traces.example/custom');
    assert.equal(tracingOptions({ OTEL_TRACES_EXPORTER: 'otlp' })?.url, 'http://localhost:4318/v1/traces');
    const tuned = tracingOptions({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'webhooks',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    assert.deepEqual(
      { ...tuned },
      {
        url: 'http://collector:4318/v1/traces',
        serviceName: 'webhooks',
        sampler: 'parentbased_traceidratio',
        ratio: 0.25,
        scheduledDelayMs: 200,
      },
    );
  });

  it('names the variable and what it accepts in one line', () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { ...on, OTEL_TRACES_SAMPLER: 'sometimes' },
        /^invalid OTEL_TRACES_SAMPLER=sometimes: expected one of /,
      ],
      [
        { ...on, OTEL_TRACES_SAMPLER_ARG: '2' },
        /^invalid OTEL_TRACES_SAMPLER_ARG=2: expected a sampling ratio/,
      ],
      [
        { ...on, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        /^invalid OTEL_EXPORTER_OTLP_PROTOCOL=grpc: expected http\/json/,
      ],
      [
        { ...on, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' },
        /^invalid OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http\/protobuf/,
      ],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
        /^invalid OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318\/v1/,
      ],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'nope' }, /^invalid OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=nope: /],
      [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /^invalid OTEL_TRACES_EXPORTER=zipkin: expected otlp/],
      [{ ...on, OTEL_BSP_SCHEDULE_DELAY: '1.5' }, /^invalid OTEL_BSP_SCHEDULE_DELAY=1.5: /],
    ];
    for (const [env, message] of cases)
      assert.throws(
        () => tracingOptions(env),
        (error: unknown) =>
          error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'),
        JSON.stringify(env),
      );
  });
});

describe('tracing off costs nothing', () => {
  it('a server started without OTEL_* variables never loads the OpenTelemetry packages; with them it does', async () => {
    const loaded: string[] = [];
    const sdk = '@opentelemetry/sdk-trace';
    registerHooks({
      resolve(specifier, context, nextResolve) {
        // prom-client (the metrics) has always required @opentelemetry/api, a few kB of no-op API; the
        // SDK, the exporter and the rest are what tracing adds.
        if (specifier.startsWith('@opentelemetry/') && specifier !== '@opentelemetry/api')
          loaded.push(specifier);
        return nextResolve(specifier, context);
      },
    });
    // Imported only now, after the hook: a static import of the SDK anywhere under main.ts would show.
    const { startServer } = await import('../../src/main.ts');
    const config = loadConfig({
      HOOKYARD_DATA_DIR: tempDir(),
      HOOKYARD_HOST: '127.0.0.1',
      HOOKYARD_PORT: '0',
      HOOKYARD_ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
    });
    const logger = createLogger('silent', false);
    const off = await startServer(config, logger, {});
    await off.close();
    assert.equal(loaded.length, 0, loaded.join(', '));

    // Nothing listens there: the exporter's failures are the SDK's to log, the server works regardless.
    const on = await startServer({ ...config, dataDir: tempDir() }, logger, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    await on.close();
    assert.ok(loaded.includes(sdk), loaded.join(', '));
  });
});
