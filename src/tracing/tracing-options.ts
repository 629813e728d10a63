import { ConfigError } from '../config/load.ts';

/**
 * Tracing's configuration, read from the standard OpenTelemetry variables (not HOOKYARD_ settings: a
 * platform sets them once for every service). Pure: the environment in, a frozen value (or undefined:
 * tracing off) out; a bad value stops start-up with one line naming the variable.
 *
 * On when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set, or
 * `OTEL_TRACES_EXPORTER=otlp` (to the default endpoint); off again with `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`.
 */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TracingOptions {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  readonly url: string;
  readonly serviceName: string;
  readonly sampler: SamplerName;
  /** The ratio of the `traceidratio` samplers. */
  readonly ratio: number;
  /** How long finished spans wait to be exported together. */
  readonly scheduledDelayMs: number;
}

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const DEFAULT_ENDPOINT = 'http://localhost:4318';

export function tracingOptions(env: NodeJS.ProcessEnv): TracingOptions | undefined {
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp')
    fail('OTEL_TRACES_EXPORTER', exporter, 'otlp, or none (tracing off)');
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && endpoint === undefined && exporter === undefined) return undefined;

  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = value(name);
    if (protocol !== undefined && protocol !== 'http/json')
      fail(name, protocol, 'http/json (Hookyard exports OTLP over HTTP as JSON), or unset');
  }
  // The signal-specific endpoint is used as given; the general one gets the signal's path (OTLP spec).
  const url = tracesEndpoint ?? `${(endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  checkUrl(
    tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT',
    url,
  );

  const sampler = (value('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(sampler)) fail('OTEL_TRACES_SAMPLER', sampler, `one of ${SAMPLERS.join(', ')}`);
  const ratioText = value('OTEL_TRACES_SAMPLER_ARG');
  const ratio = ratioText === undefined ? 1 : Number(ratioText);
  if (!(ratio >= 0 && ratio <= 1)) fail('OTEL_TRACES_SAMPLER_ARG', ratioText, 'a sampling ratio from 0 to 1');
  const delayText = value('OTEL_BSP_SCHEDULE_DELAY');
  const scheduledDelayMs = delayText === undefined ? 5000 : Number(delayText);
  if (!(Number.isInteger(scheduledDelayMs) && scheduledDelayMs >= 0))
    fail('OTEL_BSP_SCHEDULE_DELAY', delayText, 'a whole number of milliseconds');

  return Object.freeze({
    url,
    serviceName: value('OTEL_SERVICE_NAME') ?? 'hookyard',
    sampler,
    ratio,
    scheduledDelayMs,
  });
}

function checkUrl(name: string, url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(name, url, 'the http:// or https:// URL of an OTLP/HTTP receiver');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    fail(name, url, 'the http:// or https:// URL of an OTLP/HTTP receiver');
}

function fail(name: string, raw: string | undefined, expected: string): never {
  throw new ConfigError(`invalid ${name}=${raw}: expected ${expected}`);
}
