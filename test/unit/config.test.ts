import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, configWith, loadConfig } from '../../src/config/load.ts';
import { settings } from '../../src/config/settings.ts';
import { formatDuration, parseDuration } from '../../src/domain/duration.ts';

describe('config', () => {
  it('has the documented defaults and is frozen', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8071);
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, '');
    assert.deepEqual(
      config.retrySchedule,
      [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
    );
    assert.equal(config.deliveryTimeout, 15_000);
    assert.ok(Object.isFrozen(config));
  });

  it('takes environment variables, and flags over them', () => {
    const env = { HOOKYARD_PORT: '9000', HOOKYARD_LOG_LEVEL: 'debug' };
    assert.equal(loadConfig(env).port, 9000);
    assert.equal(loadConfig(env, { port: '9001' }).port, 9001);
    assert.equal(loadConfig(env, { port: '9001' }).logLevel, 'debug');
  });

  it('names the setting and what it accepts in one line', () => {
    assert.throws(
      () => loadConfig({ HOOKYARD_PORT: 'abc' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === 'invalid HOOKYARD_PORT="abc": expected an integer from 0 to 65535' &&
        !error.message.includes('\n'),
    );
    assert.throws(
      () => loadConfig({}, { 'log-level': 'loud' }),
      /invalid --log-level="loud": expected one of fatal/,
    );
    assert.throws(() => loadConfig({ HOOKYARD_RETRY_SCHEDULE: '5s,soon' }), /HOOKYARD_RETRY_SCHEDULE/);
    assert.throws(() => loadConfig({ HOOKYARD_ALLOWED_SUBNETS: '10.0.0.0/33' }), /HOOKYARD_ALLOWED_SUBNETS/);
    assert.throws(() => loadConfig({ HOOKYARD_DATABASE_URL: 'mysql://x' }), /HOOKYARD_DATABASE_URL/);
  });

  it('never echoes a secret setting', () => {
    assert.throws(
      () => loadConfig({ HOOKYARD_ADMIN_TOKEN: 'short' }),
      (error: unknown) =>
        error instanceof Error && !error.message.includes('short') && error.message.includes('(hidden)'),
    );
  });

  it('parses lists and booleans', () => {
    const config = configWith({
      allowedSubnets: '127.0.0.0/8, ::1',
      httpsOnly: 'yes',
      retrySchedule: '50ms,1s',
    });
    assert.deepEqual(
      config.allowedSubnets.map((c) => `${c.address}/${c.prefix}`),
      ['127.0.0.0/8', '::1/128'],
    );
    assert.equal(config.httpsOnly, true);
    assert.deepEqual(config.retrySchedule, [50, 1000]);
  });

  it('message retention is off or a duration of a day or more', () => {
    assert.equal(configWith({}).messageRetention, null);
    assert.equal(configWith({ messageRetention: 'OFF' }).messageRetention, null);
    assert.equal(configWith({ messageRetention: '90d' }).messageRetention, 90 * 86_400_000);
    assert.throws(() => loadConfig({ HOOKYARD_MESSAGE_RETENTION: '12h' }), /HOOKYARD_MESSAGE_RETENTION/);
  });

  it('every setting has an HOOKYARD_ env name and a kebab-case flag', () => {
    for (const s of Object.values(settings)) {
      assert.match(s.env, /^HOOKYARD_[A-Z_]+$/);
      assert.match(s.flag, /^[a-z]+(-[a-z]+)*$/);
    }
  });
});

describe('durations', () => {
  it('reads units and rejects junk', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.equal(parseDuration('100'), 100);
    assert.equal(parseDuration('-1s'), undefined);
    assert.equal(parseDuration('5 parsecs'), undefined);
    assert.equal(formatDuration(7_200_000), '2h');
    assert.equal(formatDuration(1500), '1500ms');
  });
});
