import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBrokerDestination, quoteTable } from '../../src/delivery/brokers/broker-config.ts';

const check = (type: string, config: unknown) =>
  checkBrokerDestination({ type, config }).map((issue) => `${issue.path.join('.')}: ${issue.message}`);

test('valid configs of every type pass', () => {
  assert.deepEqual(check('rabbitMq', { uri: 'amqp://guest:guest@rabbit:5672/%2f', routingKey: 'q' }), []);
  assert.deepEqual(check('rabbitMq', { uri: 'amqps://rabbit', routingKey: '', exchange: 'events' }), []);
  assert.deepEqual(check('natsJetStream', { url: 'nats://token@nats:4222', subject: 'webhooks.a' }), []);
  assert.deepEqual(check('redisStream', { url: 'rediss://:pw@redis:6380/3', stream: 's', maxLen: 1000 }), []);
  assert.deepEqual(check('mqtt', { url: 'mqtts://broker:8883', topic: 'a/b' }), []);
  assert.deepEqual(
    check('postgres', { url: 'postgresql://u:p@db/app?sslmode=require', table: 'public.hooks' }),
    [],
  );
});

test('each mistake names its field', () => {
  assert.deepEqual(check('rabbitMq', { uri: 'http://rabbit', routingKey: 'x'.repeat(256), exchange: 3 }), [
    'uri: uri must use amqp:// or amqps://',
    'routingKey: routingKey is required, at most 255 bytes',
    'exchange: exchange must be a name of at most 255 bytes',
  ]);
  assert.deepEqual(check('natsJetStream', { url: 'nats://', subject: 'a.>' }), [
    'url: url has no host',
    'subject: subject must be a NATS subject without spaces or wildcards',
  ]);
  assert.deepEqual(check('redisStream', { url: 'redis://r/db', stream: '', maxLen: 1.5 }), [
    'url: url may name a database only by its number, as in redis://host:6379/0',
    'stream: stream is required',
    'maxLen: maxLen must be a positive integer',
  ]);
  assert.deepEqual(check('mqtt', { topic: 'a/+' }), [
    'url: url is not a valid URL',
    'topic: topic must be a non-empty MQTT topic without wildcards',
  ]);
  assert.deepEqual(check('postgres', { url: 'postgres://db', table: 'a;drop' }), [
    'table: table must be a table name or schema.table (letters, digits, _ and $)',
  ]);
  assert.deepEqual(check('kafka', {}), [
    ': unknown destination type kafka; use one of rabbitMq, natsJetStream, redisStream, mqtt, postgres',
  ]);
  assert.deepEqual(check('mqtt', null), [': config must be an object']);
});

test('table names are quoted only once checked', () => {
  assert.equal(quoteTable('public.webhooks'), '"public"."webhooks"');
  assert.equal(quoteTable('webhooks'), '"webhooks"');
  for (const bad of ['', 'a.b.c', 'x; DROP TABLE y', '"quoted"', '1abc']) {
    assert.throws(() => quoteTable(bad), /table must be a table name/);
  }
});
