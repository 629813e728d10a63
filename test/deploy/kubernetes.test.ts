/**
 * deploy/kubernetes rendered by `kubectl kustomize` for every overlay, and the objects checked:
 * what each overlay must hold, and for every workload the probes, resources, non-root security
 * context, drain grace period, and that every Secret, ConfigMap, Service, HPA, PDB and ServiceMonitor
 * reference points at something that exists in the same render.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { tempDir } from '../helpers/server-process.ts';

const SOURCE = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const kubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'kubectl is not installed';
  }
})();

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are free-form JSON walked by the checks.
type K8sObject = any;

/** Renders an overlay from a copy of the tree, its hookyard.env made from the shipped example. */
function render(overlay: string, work: string): K8sObject[] {
  const dir = join(work, 'overlays', overlay);
  const env = join(dir, 'hookyard.env');
  if (!existsSync(env)) copyFileSync(`${env}.example`, env);
  const yaml = execFileSync('kubectl', ['kustomize', dir], { stdio: 'pipe' }).toString();
  return parseAllDocuments(yaml).map((doc) => doc.toJS());
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
}

function container(workload: K8sObject): K8sObject {
  return workload.spec.template.spec.containers.find((c: K8sObject) => c.name === 'hookyard');
}

function envValue(workload: K8sObject, name: string): K8sObject {
  return container(workload).env?.find((e: K8sObject) => e.name === name);
}

function checkCommon(objects: K8sObject[]): void {
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s]));
  const configMaps = new Set(byKind('ConfigMap').map((c) => c.metadata.name));
  assert.ok(workloads(objects).length > 0);
  for (const workload of workloads(objects)) {
    const name = `${workload.kind}/${workload.metadata.name}`;
    const pod = workload.spec.template.spec;
    const c = container(workload);
    assert.ok(c, `${name}: a hookyard container`);
    assert.ok(
      matches(workload.spec.selector.matchLabels, workload.spec.template.metadata.labels),
      `${name}: selector`,
    );
    assert.equal(c.livenessProbe?.httpGet?.path, '/livez', `${name}: liveness on /livez`);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${name}: readiness on /readyz`);
    const portNames = c.ports.map((p: K8sObject) => p.name);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean))
      assert.ok(
        portNames.includes(probe.httpGet.port),
        `${name}: probe port ${probe.httpGet.port} is declared`,
      );
    assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${name}: resource requests`);
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
    assert.notEqual(pod.securityContext?.runAsUser, 0, `${name}: not uid 0`);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${name}: no privilege escalation`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${name}: drops capabilities`);
    assert.ok(pod.terminationGracePeriodSeconds >= 30, `${name}: grace period for the drain`);
    for (const entry of c.env ?? []) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (!ref) continue;
      const secret = secrets.get(ref.name);
      assert.ok(secret, `${name}: Secret ${ref.name} exists`);
      assert.ok(Object.hasOwn(secret.data ?? {}, ref.key), `${name}: Secret ${ref.name} has ${ref.key}`);
    }
    for (const from of c.envFrom ?? [])
      if (from.configMapRef) assert.ok(configMaps.has(from.configMapRef.name), `${name}: ConfigMap exists`);
    for (const mount of c.volumeMounts ?? []) {
      const declared =
        pod.volumes?.some((v: K8sObject) => v.name === mount.name) ||
        workload.spec.volumeClaimTemplates?.some((t: K8sObject) => t.metadata.name === mount.name);
      assert.ok(declared, `${name}: volume ${mount.name} is declared`);
    }
  }
  const pods = workloads(objects).map((w) => w.spec.template.metadata.labels);
  for (const service of byKind('Service'))
    assert.ok(
      pods.some((labels) => matches(service.spec.selector, labels)),
      `Service ${service.metadata.name} selects pods`,
    );
  const api = byKind('Service').find((s) => s.metadata.name === 'hookyard');
  for (const workload of workloads(objects))
    assert.equal(
      matches(api.spec.selector, workload.spec.template.metadata.labels),
      envValue(workload, 'HOOKYARD_ROLE')?.value !== 'worker',
      `the API Service selects ${workload.metadata.name} exactly when it serves the API`,
    );
}

describe('deploy/kubernetes (kubectl kustomize)', { skip: kubectl ?? false }, () => {
  const work = tempDir('hookyard-k8s-');
  after(() => rmSync(work, { recursive: true, force: true }));
  cpSync(SOURCE, work, { recursive: true, filter: (path) => !path.endsWith('/hookyard.env') });
  const overlays = readdirSync(join(SOURCE, 'overlays'));

  it('has the embedded and the fleet overlay, and every overlay renders with consistent references', () => {
    assert.deepEqual(overlays.sort(), ['embedded', 'fleet']);
    for (const overlay of overlays) checkCommon(render(overlay, work));
  });

  it('embedded: one StatefulSet replica, role all, SQLite on a PersistentVolumeClaim', () => {
    const objects = render('embedded', work);
    const [set, ...others] = workloads(objects);
    assert.equal(others.length, 0);
    assert.equal(set.kind, 'StatefulSet');
    assert.equal(set.spec.replicas, 1);
    assert.equal(envValue(set, 'HOOKYARD_ROLE').value, 'all');
    assert.equal(envValue(set, 'HOOKYARD_DATABASE_URL'), undefined, 'no PostgreSQL: embedded SQLite');
    const dataDir = envValue(set, 'HOOKYARD_DATA_DIR').value;
    const mount = container(set).volumeMounts.find((m: K8sObject) => m.mountPath === dataDir);
    const claim = set.spec.volumeClaimTemplates.find((t: K8sObject) => t.metadata.name === mount?.name);
    assert.ok(claim, 'the data directory is a PersistentVolumeClaim');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.ok(set.spec.template.spec.securityContext.fsGroup, 'the volume is writable by the non-root user');
    const governing = objects.find((o) => o.kind === 'Service' && o.metadata.name === set.spec.serviceName);
    assert.equal(governing?.spec.clusterIP, 'None', 'the governing Service is headless');
  });

  it('fleet: api and worker Deployments on PostgreSQL, worker HPA, PDBs, Secret, ServiceMonitor', () => {
    const objects = render('fleet', work);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    const role = (d: K8sObject) => envValue(d, 'HOOKYARD_ROLE').value;
    assert.deepEqual(deployments.map(role).sort(), ['api', 'worker']);
    for (const d of deployments) assert.ok(envValue(d, 'HOOKYARD_DATABASE_URL')?.valueFrom?.secretKeyRef);
    assert.equal(objects.filter((o) => o.kind === 'StatefulSet').length, 0);

    const [secret] = objects.filter((o) => o.kind === 'Secret');
    assert.deepEqual(Object.keys(secret.data).sort(), ['admin-token', 'database-url']);

    const worker = deployments.find((d) => role(d) === 'worker');
    const [hpa] = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(
      { kind: hpa.spec.scaleTargetRef.kind, name: hpa.spec.scaleTargetRef.name },
      { kind: 'Deployment', name: worker.metadata.name },
    );
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    assert.ok(container(worker).resources.requests.cpu, 'CPU utilisation needs a CPU request');

    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    for (const d of deployments)
      assert.equal(
        pdbs.filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels)).length,
        1,
        `one PDB covers ${d.metadata.name}`,
      );

    const [monitor] = objects.filter((o) => o.kind === 'ServiceMonitor');
    const scraped = objects.filter(
      (o) => o.kind === 'Service' && matches(monitor.spec.selector.matchLabels, o.metadata.labels),
    );
    assert.equal(scraped.length, 1);
    const [endpoint] = monitor.spec.endpoints;
    assert.equal(endpoint.path, '/metrics');
    assert.ok(scraped[0].spec.ports.some((p: K8sObject) => p.name === endpoint.port));
    for (const d of deployments)
      assert.ok(
        matches(scraped[0].spec.selector, d.spec.template.metadata.labels),
        `${d.metadata.name} is scraped`,
      );
  });
});
