/**
 * Runs the README's walkthrough exactly as written (only its two port numbers are swapped for free
 * ones, so the test cannot collide with a server already on 8071 or 9000): start Hookyard, start
 * `hookyard listen`, create an application and an endpoint, send with curl and with the Svix SDK,
 * see both deliveries verified, list the attempts.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort, tempDir } from '../helpers/server-process.ts';

const root = new URL('../../', import.meta.url).pathname;

function walkthroughBlocks(): string[] {
  const readme = readFileSync(new URL('README.md', new URL('../../', import.meta.url)), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Walkthrough'),
    readme.indexOf('\n## ', readme.indexOf('## Walkthrough') + 3),
  );
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

const children: ChildProcess[] = [];
after(() => {
  // Each background command runs in its own process group (npm start spawns node): end the group.
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

it('the README walkthrough works as written', async () => {
  const blocks = walkthroughBlocks();
  assert.equal(blocks.length, 4, 'server, listener, send, list attempts');
  const apiPort = String(await freePort());
  const listenPort = String(await freePort());
  const localise = (block: string) => block.replaceAll('8071', apiPort).replaceAll('9000', listenPort);
  // The walkthrough's own data directory would be ./data; the test keeps the repo clean.
  const env = {
    ...process.env,
    HOOKYARD_DATA_DIR: tempDir(),
    HOOKYARD_LOG_LEVEL: 'warn',
    HOOKYARD_PORT: apiPort,
  };

  const background = (block: string) => {
    let output = '';
    const child = spawn('bash', ['-c', localise(block)], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    children.push(child);
    return () => output;
  };
  const serverOutput = background(blocks[0]!);
  const listenerOutput = background(blocks[1]!);

  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${apiPort}/api/v1/health`).then(
      (res) => res.ok,
      () => false,
    );
    const listening = await fetch(`http://127.0.0.1:${listenPort}/`, { method: 'HEAD' }).then(
      () => true,
      () => false,
    );
    if (ready && listening) break;
    assert.ok(Date.now() < deadline, `not ready in 30 s:\n${serverOutput()}\n${listenerOutput()}`);
    await sleep(100);
  }

  const run = promisify(execFile);
  const sent = await run('bash', ['-ec', localise(blocks[2]!)], { cwd: root, env });
  assert.match(sent.stdout, /"id":"app_/);
  assert.match(sent.stdout, /"id":"ep_/);
  assert.match(sent.stdout, /"id":"msg_/);
  assert.match(sent.stdout, /sent msg_\w+ \(invoice\.paid\)/);

  let attempts: { data: Array<{ status: number; responseStatusCode: number }> } = { data: [] };
  const until = Date.now() + 20_000;
  while (attempts.data.length < 2) {
    assert.ok(Date.now() < until, `attempts never listed; listener said:\n${listenerOutput()}`);
    await sleep(200);
    const listed = await run(
      'bash',
      ['-ec', `export HOOKYARD_TOKEN=walkthrough-token-123456\n${localise(blocks[3]!)}`],
      {
        cwd: root,
        env,
      },
    );
    attempts = JSON.parse(listed.stdout);
  }
  assert.deepEqual(
    attempts.data.map((a) => [a.status, a.responseStatusCode]),
    [
      [0, 200],
      [0, 200],
    ],
  );
  const verified = listenerOutput().match(/verified/gi) ?? [];
  assert.ok(verified.length >= 2, `the listener verified both deliveries:\n${listenerOutput()}`);
  assert.match(listenerOutput(), /user\.signup/);
  assert.match(listenerOutput(), /invoice\.paid/);
});
