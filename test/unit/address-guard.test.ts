import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardedLookup } from '../../src/delivery/address-guard.ts';
import { createAddressGuard, embeddedIPv4 } from '../../src/domain/address-rules.ts';
import { parseCidrList } from '../../src/domain/cidr.ts';
import { checkEndpointUrl } from '../../src/domain/endpoint-url.ts';

const cidrs = (text: string) => parseCidrList(text) ?? assert.fail(`bad cidr ${text}`);
const guard = createAddressGuard([]);

describe('address guard', () => {
  it('blocks internal and reserved addresses in every family and spelling', () => {
    const table: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.5', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['100.127.255.255', 'shared (CGNAT)'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['240.0.0.1', 'reserved'],
      ['255.255.255.255', 'reserved'],
      ['192.0.0.8', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['198.18.0.1', 'reserved'],
      ['198.19.255.255', 'reserved'],
      ['198.51.100.7', 'documentation'],
      ['203.0.113.9', 'documentation'],
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf::1', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.1.2.3', 'private'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['::127.0.0.1', 'loopback'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['2002:7f00:1::', 'loopback'],
      ['2002:c0a8:0101::1', 'private'],
      ['[::1]', 'loopback'],
    ];
    for (const [address, category] of table) {
      const verdict = guard.check(address);
      assert.equal(verdict.blocked, true, address);
      if (verdict.blocked) assert.equal(verdict.category, category, address);
    }
  });

  it('lets public addresses through', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '192.169.0.1',
      '198.20.0.1',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::8.8.8.8',
      '2002:0808:0808::1',
    ]) {
      assert.deepEqual(guard.check(address), { blocked: false }, address);
    }
  });

  it('explains a refusal in one line', () => {
    const verdict = guard.check('10.0.0.5');
    assert.equal(
      verdict.blocked && verdict.reason,
      'address 10.0.0.5 is private; blocked by the address guard (HOOKYARD_ALLOWED_SUBNETS opens exceptions)',
    );
  });

  it('opens exceptions for HOOKYARD_ALLOWED_SUBNETS, including mapped spellings', () => {
    const open = createAddressGuard(cidrs('127.0.0.0/8,10.1.0.0/16,fd00::/8'));
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.1.2.3', 'fd00::5']) {
      assert.deepEqual(open.check(address), { blocked: false }, address);
    }
    for (const address of ['10.2.0.1', '::1', 'fc00::1', '192.168.0.1'])
      assert.equal(open.check(address).blocked, true, address);
  });

  it('finds IPv4 inside IPv6', () => {
    assert.equal(embeddedIPv4('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(embeddedIPv4('64:ff9b::102:304'), '1.2.3.4');
    assert.equal(embeddedIPv4('2002:102:304::'), '1.2.3.4');
    assert.equal(embeddedIPv4('::1'), undefined);
    assert.equal(embeddedIPv4('::'), undefined);
    assert.equal(embeddedIPv4('2001:4860::1'), undefined);
  });
});

describe('checkEndpointUrl', () => {
  const config = { httpsOnly: false, allowedSubnets: cidrs('') };

  it('refuses literal internal addresses however they are spelled', () => {
    for (const url of [
      'http://127.0.0.1/hook',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://0/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'https://169.254.169.254/latest/meta-data',
      'http://[fe80::1]/',
      'http://10.0.0.1./',
      'http://localhost:3000/',
      'http://LOCALHOST/',
      'http://localhost./',
      'http://api.localhost/',
    ]) {
      const result = checkEndpointUrl(url, config);
      assert.equal(result.ok, false, url);
      if (!result.ok) assert.match(result.reason, /blocked by the address guard/, url);
    }
  });

  it('accepts public addresses and names without resolving them', () => {
    for (const url of [
      'https://example.com/webhook',
      'http://8.8.8.8/',
      'https://[2606:4700::1]/x',
      'http://internal.example/',
    ]) {
      assert.equal(checkEndpointUrl(url, config).ok, true, url);
    }
  });

  it('checks the scheme', () => {
    assert.deepEqual(checkEndpointUrl('ftp://example.com/', config), {
      ok: false,
      reason: 'the URL must use http or https',
    });
    assert.deepEqual(checkEndpointUrl('not a url', config), { ok: false, reason: 'not a valid URL' });
    assert.equal(checkEndpointUrl('http://example.com/', { ...config, httpsOnly: true }).ok, false);
    assert.equal(checkEndpointUrl('https://example.com/', { ...config, httpsOnly: true }).ok, true);
  });

  it('lets localhost through once 127.0.0.0/8 is allowed', () => {
    const open = { httpsOnly: false, allowedSubnets: cidrs('127.0.0.0/8') };
    assert.equal(checkEndpointUrl('http://localhost:3000/', open).ok, true);
    assert.equal(checkEndpointUrl('http://0x7f.1/', open).ok, true);
    assert.equal(checkEndpointUrl('http://[::1]/', open).ok, false);
  });
});

describe('guardedLookup', () => {
  const resolve = (lookup: ReturnType<typeof guardedLookup>, name: string, all: boolean) =>
    new Promise<{ error: Error | null; address: unknown }>((done) => {
      lookup(name, { all }, (error, address) => done({ error, address }));
    });

  it('fails a name that resolves only to blocked addresses', async () => {
    const { error } = await resolve(guardedLookup(guard), 'localhost', false);
    assert.match(
      String(error?.message),
      /^localhost: address (127\.0\.0\.1|::1) is loopback; blocked by the address guard/,
    );
    assert.equal((error as { code?: string }).code, 'EADDRBLOCKED');
  });

  it('returns only the allowed addresses', async () => {
    const lookup = guardedLookup(createAddressGuard(cidrs('127.0.0.0/8')));
    assert.deepEqual(await resolve(lookup, 'localhost', true), {
      error: null,
      address: [{ address: '127.0.0.1', family: 4 }],
    });
    assert.deepEqual(await resolve(lookup, 'localhost', false), { error: null, address: '127.0.0.1' });
  });
});
