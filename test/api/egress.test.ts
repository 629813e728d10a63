import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { OPENSSL_MISSING, tlsFixtures } from '../helpers/tls.ts';
import { type Harness, harness } from './harness.ts';

/**
 * The `egress` field on endpoints (a Hookyard addition): checked when saved (422 naming the field and
 * what is wrong), merged on update and patch, and shown only as descriptions: no PEM, no key, no
 * proxy credentials ever leave the API.
 */
const V1 = '/api/v1';
const fixtures = tlsFixtures();

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const h = await harness();
  t.after(() => h.close());
  const created = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'egress' } });
  assert.equal(created.statusCode, 201, created.body);
  return { h, app: String(created.json().id) };
}

function create(h: Harness, app: string, egress: unknown) {
  return h.call({
    method: 'POST',
    url: `${V1}/app/${app}/endpoint`,
    payload: { url: 'https://127.0.0.1:9/hook', egress },
  });
}

/** The PEM bodies (not just their BEGIN lines, which error messages may name) and the proxy password. */
function assertNoMaterial(body: string): void {
  const f = fixtures as NonNullable<typeof fixtures>;
  for (const pem of [f.clientKey, f.clientCert, f.serverCa, f.strayKey, f.otherClientKey])
    assert.ok(!body.includes(pem.split('\n')[1] ?? '-'), 'a PEM body is in the response');
  assert.doesNotMatch(body, /s3cret|hooks:/);
}

describe('endpoint egress', { skip: fixtures ? false : OPENSSL_MISSING }, () => {
  const f = fixtures as NonNullable<typeof fixtures>;
  const proxy = 'http://hooks:s3cret@127.0.0.1:3128';

  test('create, get and list show what is set, never the PEM, the key or the proxy credentials', async (t) => {
    const { h, app } = await setup(t);
    const created = await create(h, app, {
      clientCertificate: f.clientCert,
      clientKey: f.clientKey,
      caBundle: f.serverCa,
      proxy,
    });
    assert.equal(created.statusCode, 201, created.body);
    assertNoMaterial(created.body);
    const egress = created.json().egress;
    assert.equal(egress.clientCertificate.fingerprint256, new X509Certificate(f.clientCert).fingerprint256);
    assert.match(egress.clientCertificate.subject, /CN=hookyard-test-client/);
    assert.ok(Date.parse(egress.clientCertificate.validTo) > Date.now());
    assert.deepEqual(
      egress.caBundle.map((cert: { subject: string }) => cert.subject),
      ['CN=hookyard-test-server-ca'],
    );
    assert.equal(egress.proxy, 'http://127.0.0.1:3128');

    const id = created.json().id;
    const got = await h.call({ url: `${V1}/app/${app}/endpoint/${id}` });
    assertNoMaterial(got.body);
    assert.deepEqual(got.json().egress, egress);
    const listed = await h.call({ url: `${V1}/app/${app}/endpoint` });
    assertNoMaterial(listed.body);
    assert.deepEqual(listed.json().data[0].egress, egress);
    // Stored as given, for delivery.
    const stored = await h.storage.endpoints.get(app, id);
    assert.equal(stored?.egress?.clientKey, f.clientKey.trim());
    assert.deepEqual(stored?.egress?.proxy, { kind: 'proxy', url: proxy });
  });

  test('an endpoint without egress settings shows egress: null', async (t) => {
    const { h, app } = await setup(t);
    const created = await create(h, app, undefined);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().egress, null);
    assert.equal((await h.storage.endpoints.get(app, created.json().id))?.egress, undefined);
  });

  test('422 with the field and the reason when the PEM does not parse or key and certificate do not match', async (t) => {
    const { h, app } = await setup(t);
    const cases: [unknown, string, RegExp][] = [
      [
        { clientCertificate: f.clientCert, clientKey: f.strayKey },
        'clientKey',
        /does not match clientCertificate/,
      ],
      [{ clientCertificate: f.clientCert }, 'clientKey', /set together/],
      [{ clientKey: f.clientKey }, 'clientCertificate', /set together/],
      [{ clientCertificate: 'not a certificate', clientKey: f.clientKey }, 'clientCertificate', /PEM/],
      [
        // The first line of base64 (the DER header) dropped: PEM framing intact, the certificate broken.
        { clientCertificate: f.clientCert.replace(/\n[^\n]+\n/, '\n'), clientKey: f.clientKey },
        'clientCertificate',
        /does not parse/,
      ],
      [
        { clientCertificate: f.clientCert, clientKey: 'garbage' },
        'clientKey',
        /not an unencrypted PEM private key/,
      ],
      [{ caBundle: `${f.serverCa}${f.clientKey}` }, 'caBundle', /PRIVATE KEY, not a CERTIFICATE/],
      [{ caBundle: 'hello' }, 'caBundle', /PEM text/],
      [{ proxy: 'socks5://127.0.0.1:1080' }, 'proxy', /http/],
      [{ proxy: 'http://127.0.0.1:3128/path' }, 'proxy', /no path/],
      [{ proxy: 'http://169.254.169.254:80' }, 'proxy', /address guard/],
    ];
    for (const [egress, field, message] of cases) {
      const response = await create(h, app, egress);
      assert.equal(response.statusCode, 422, `${field}: ${response.body}`);
      const body = response.json();
      assert.equal(body.code, 'validation');
      assert.deepEqual(body.detail[0].loc, ['body', 'egress', field], response.body);
      assert.match(body.detail[0].msg, message);
      assertNoMaterial(response.body);
    }
    const unknown = await create(h, app, { clientCert: f.clientCert });
    assert.equal(unknown.statusCode, 422, unknown.body);
  });

  test('patch and update keep what they do not name, null clears a field, egress: null clears all', async (t) => {
    const { h, app } = await setup(t);
    const created = await create(h, app, { clientCertificate: f.clientCert, clientKey: f.clientKey });
    const url = `${V1}/app/${app}/endpoint/${created.json().id}`;
    const fingerprint = created.json().egress.clientCertificate.fingerprint256;

    const patched = await h.call({ method: 'PATCH', url, payload: { egress: { proxy: 'direct' } } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().egress.proxy, 'direct');
    assert.equal(patched.json().egress.clientCertificate.fingerprint256, fingerprint);

    const renamed = await h.call({ method: 'PATCH', url, payload: { description: 'renamed' } });
    assert.equal(renamed.json().egress.proxy, 'direct');

    const updated = await h.call({ method: 'PUT', url, payload: { url: 'https://127.0.0.1:9/other' } });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.equal(updated.json().egress.clientCertificate.fingerprint256, fingerprint);

    const other = await h.call({
      method: 'PATCH',
      url,
      payload: {
        egress: { clientCertificate: f.otherClientCert, clientKey: f.otherClientKey, caBundle: f.serverCa },
      },
    });
    assert.equal(other.statusCode, 200, other.body);
    assert.match(other.json().egress.clientCertificate.subject, /hookyard-test-other-client/);

    // A new certificate with the old key does not match: refused, nothing changed.
    const mismatch = await h.call({
      method: 'PATCH',
      url,
      payload: { egress: { clientCertificate: f.clientCert } },
    });
    assert.equal(mismatch.statusCode, 422, mismatch.body);

    const cleared = await h.call({
      method: 'PATCH',
      url,
      payload: { egress: { clientCertificate: null, clientKey: null } },
    });
    assert.equal(cleared.json().egress.clientCertificate, null);
    assert.equal(cleared.json().egress.caBundle.length, 1);

    const none = await h.call({
      method: 'PUT',
      url,
      payload: { url: 'https://127.0.0.1:9/hook', egress: null },
    });
    assert.equal(none.statusCode, 200, none.body);
    assert.equal(none.json().egress, null);
  });

  test('the environment export carries egress (and the filter) with include_secrets; import restores them', async (t) => {
    const { h } = await setup(t);
    const shop = await h.call({ method: 'POST', url: `${V1}/app`, payload: { name: 'shop', uid: 'shop' } });
    const app = String(shop.json().id);
    const filter = { 'data.amount': { $gte: 100 } };
    const created = await h.call({
      method: 'POST',
      url: `${V1}/app/${app}/endpoint`,
      payload: {
        uid: 'mtls',
        url: 'https://127.0.0.1:9/hook',
        filter,
        egress: { clientCertificate: f.clientCert, clientKey: f.clientKey, caBundle: f.serverCa, proxy },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const plain = await h.call({ method: 'POST', url: `${V1}/environment/export` });
    assertNoMaterial(plain.body);
    const exportedShop = (body: { settings: { hookyard: { applications: { uid: string }[] } } }) =>
      body.settings.hookyard.applications.findIndex((item) => item.uid === 'shop');
    const index = exportedShop(plain.json());
    const [plainEndpoint] = plain.json().settings.hookyard.applications[index].endpoints;
    assert.deepEqual(plainEndpoint.filter, filter, 'the filter is not a secret');
    assert.equal(plainEndpoint.egress, undefined, 'egress only with include_secrets');

    const full = await h.call({ method: 'POST', url: `${V1}/environment/export?include_secrets=true` });
    const [fullEndpoint] = full.json().settings.hookyard.applications[index].endpoints;
    assert.deepEqual(fullEndpoint.egress, {
      clientCertificate: f.clientCert.trim(),
      clientKey: f.clientKey.trim(),
      caBundle: f.serverCa.trim(),
      proxy,
    });

    const target = await harness();
    t.after(() => target.close());
    const imported = await target.call({
      method: 'POST',
      url: `${V1}/environment/import`,
      payload: full.json(),
    });
    assert.equal(imported.statusCode, 204, imported.body);
    const copied = (await target.call({ method: 'GET', url: `${V1}/app/shop/endpoint/mtls` })).json();
    assert.deepEqual(copied.filter, filter);
    assert.deepEqual(copied.egress, created.json().egress);

    // Without include_secrets an import keeps the egress the endpoint has; a bad PEM names its place.
    await target.call({ method: 'POST', url: `${V1}/environment/import`, payload: plain.json() });
    const kept = (await target.call({ method: 'GET', url: `${V1}/app/shop/endpoint/mtls` })).json();
    assert.deepEqual(kept.egress, created.json().egress);
    const broken = structuredClone(full.json());
    broken.settings.hookyard.applications[index].endpoints[0].egress.caBundle = 'not a pem';
    const refused = await target.call({ method: 'POST', url: `${V1}/environment/import`, payload: broken });
    assert.equal(refused.statusCode, 422, refused.body);
    assert.deepEqual(refused.json().detail[0].loc, [
      'body',
      'settings',
      'hookyard',
      'applications',
      String(index),
      'endpoints',
      '0',
      'egress',
      'caBundle',
    ]);
  });

  test('the OpenAPI document describes egress on endpoint input and output', async (t) => {
    const { h } = await setup(t);
    const document = (await h.call({ url: `${V1}/openapi.json`, token: null })).json();
    const schemas = document.components.schemas;
    for (const name of ['EndpointIn', 'EndpointUpdate', 'EndpointPatch', 'EndpointOut'])
      assert.ok(JSON.stringify(schemas[name].properties.egress).includes('EndpointEgress'), name);
    assert.deepEqual(Object.keys(schemas.EndpointEgressIn.properties).sort(), [
      'caBundle',
      'clientCertificate',
      'clientKey',
      'proxy',
    ]);
    assert.ok(schemas.EndpointEgressOut.properties.clientCertificate);
  });
});
