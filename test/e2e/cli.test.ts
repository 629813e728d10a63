import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli, startHookyard, tempDir } from '../helpers/server-process.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('hookyard CLI', () => {
  it('prints its version and usage', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), version);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: hookyard <command>/);
    assert.match(help.stdout, /--port <value>\s+HOOKYARD_PORT/);
  });

  it('turns on the module compile cache, in the temporary directory unless NODE_COMPILE_CACHE says where', async () => {
    const tmp = tempDir();
    const result = await runCli(['--version'], { NODE_COMPILE_CACHE: undefined, TMPDIR: tmp });
    assert.equal(result.code, 0);
    // One cache directory per Node version, holding an entry per module compiled.
    const [versionDir] = readdirSync(join(tmp, 'node-compile-cache'));
    assert.ok(versionDir, 'the cache directory was created');
    assert.ok(
      readdirSync(join(tmp, 'node-compile-cache', versionDir)).length > 100,
      'the modules were cached',
    );
    const chosen = tempDir();
    assert.equal((await runCli(['--version'], { NODE_COMPILE_CACHE: chosen })).code, 0);
    assert.ok(readdirSync(chosen).length > 0, 'NODE_COMPILE_CACHE chooses the directory');
  });

  it('rejects an unknown command or flag with one line and the usage', async () => {
    const command = await runCli(['frobnicate']);
    assert.equal(command.code, 2);
    assert.match(command.stderr.split('\n')[0]!, /^hookyard: unknown command "frobnicate"$/);
    assert.match(command.stderr, /Usage: hookyard/);
    const flag = await runCli(['serve', '--colour', 'blue']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr.split('\n')[0]!, /^hookyard: Unknown option '--colour'/);
  });

  it('stops start-up on a bad setting with one line naming it', async () => {
    const result = await runCli(['serve'], { HOOKYARD_PORT: 'abc', HOOKYARD_DATA_DIR: tempDir() });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'hookyard: invalid HOOKYARD_PORT="abc": expected an integer from 0 to 65535\n',
    );
    const flag = await runCli(['serve', '--delivery-timeout', 'forever'], { HOOKYARD_DATA_DIR: tempDir() });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^hookyard: invalid --delivery-timeout="forever": expected a duration/);
  });

  it('migrates a fresh data directory and is idempotent', async () => {
    const dir = tempDir();
    const first = await runCli(['migrate'], { HOOKYARD_DATA_DIR: dir, HOOKYARD_LOG_LEVEL: 'silent' });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^migrated sqlite:/);
    const second = await runCli(['migrate'], { HOOKYARD_DATA_DIR: dir, HOOKYARD_LOG_LEVEL: 'silent' });
    assert.equal(second.code, 0, second.stderr);
  });

  it('serves health without a token, answers 401 with a code without one, and exits 0 on SIGTERM', async () => {
    const hookyard = await startHookyard({ HOOKYARD_DATA_DIR: tempDir() });
    try {
      const health = await fetch(`${hookyard.url}/api/v1/health`);
      assert.equal(health.status, 200);
      const head = await fetch(`${hookyard.url}/api/v1/health`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      const denied = await fetch(`${hookyard.url}/api/v1/app`);
      assert.equal(denied.status, 401);
      const body = (await denied.json()) as { code: string; detail: string };
      assert.equal(body.code, 'authentication_failed');
      assert.equal(typeof body.detail, 'string');
      const wrong = await fetch(`${hookyard.url}/api/v1/app`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const allowed = await hookyard.api('GET', '/api/v1/app');
      assert.equal(allowed.status, 200);
    } finally {
      assert.equal(await hookyard.stop(), 0);
    }
  });

  it('generates an admin token on first start, prints it once, and keeps only its hash', async () => {
    const dir = tempDir();
    const first = await startHookyard({ HOOKYARD_DATA_DIR: dir, HOOKYARD_ADMIN_TOKEN: '' });
    const token = /\n {2}(hyadm_[A-Za-z0-9_-]+)\n/.exec(first.output())?.[1];
    assert.ok(token, `no token printed in:\n${first.output()}`);
    const ok = await fetch(`${first.url}/api/v1/app`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal(await first.stop(), 0);
    const db = readFileSync(`${dir}/hookyard.db`);
    assert.ok(!db.includes(Buffer.from(token)), 'the token itself is never stored');

    const second = await startHookyard({ HOOKYARD_DATA_DIR: dir, HOOKYARD_ADMIN_TOKEN: '' });
    try {
      assert.doesNotMatch(second.output(), /hyadm_/);
      const again = await fetch(`${second.url}/api/v1/app`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(again.status, 200);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });
});
