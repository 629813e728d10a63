/**
 * deploy/compose.yaml and its Prometheus config, checked without a Docker engine: valid YAML with
 * its anchors and merges resolved, the services and what makes `--scale worker=N` work, a volume for
 * PostgreSQL, Prometheus only under its profile, scraping /metrics of every api and worker.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  container_name?: string;
  depends_on?: string[] | Record<string, unknown>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }) as Compose;

describe('deploy/compose.yaml', () => {
  it('runs api and worker roles of one image on PostgreSQL', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['api', 'postgres', 'prometheus', 'worker']);
    const { api, worker, postgres } = compose.services as Record<string, Service>;
    assert.equal(api?.environment?.HOOKYARD_ROLE, 'api');
    assert.equal(worker?.environment?.HOOKYARD_ROLE, 'worker');
    for (const service of [api!, worker!]) {
      assert.equal(service.image, api?.image, 'one image for both roles');
      assert.ok(service.build, 'built from this repository');
      assert.ok(
        existsSync(join(DEPLOY, service.build.context, service.build.dockerfile)),
        'the Dockerfile exists',
      );
      assert.match(
        service.environment?.HOOKYARD_DATABASE_URL ?? '',
        /^postgres:\/\/[^@]+@postgres:5432\/\w+$/,
      );
      assert.match(service.environment?.HOOKYARD_ADMIN_TOKEN ?? '', /^\$\{HOOKYARD_ADMIN_TOKEN:\?/);
      assert.ok(service.stop_grace_period, 'a grace period for the drain');
    }
    assert.equal(api?.ports?.length, 1);
    assert.match(api?.ports?.[0] ?? '', /:8071$/, 'the api publishes its port');
    assert.match(postgres?.image ?? '', /^postgres:\d+/);
  });

  it('lets the worker scale: no fixed host port, no container name', () => {
    const { worker } = compose.services;
    assert.equal(worker?.ports, undefined);
    assert.equal(worker?.container_name, undefined);
  });

  it('keeps PostgreSQL data in a named volume', () => {
    const mount = compose.services.postgres?.volumes?.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    assert.ok(mount, 'PostgreSQL data directory is mounted');
    assert.ok(Object.hasOwn(compose.volumes, mount.split(':')[0]!), 'as a declared named volume');
  });

  it('has Prometheus only under the monitoring profile, scraping /metrics on every api and worker', () => {
    const { prometheus } = compose.services;
    assert.deepEqual(prometheus?.profiles, ['monitoring']);
    for (const service of ['api', 'worker', 'postgres'])
      assert.equal(compose.services[service]?.profiles, undefined);
    const mount = prometheus?.volumes?.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'));
    assert.ok(mount);
    const config = parse(readFileSync(join(DEPLOY, mount.split(':')[0]!), 'utf8')) as {
      scrape_configs: { metrics_path?: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const [job] = config.scrape_configs;
    assert.equal(job?.metrics_path ?? '/metrics', '/metrics');
    assert.deepEqual(job?.dns_sd_configs[0]?.names, ['api', 'worker']);
    assert.equal(job?.dns_sd_configs[0]?.port, 8071);
  });
});
