/**
 * JSON body parser micro-benchmark: Fastify's default parser (lenient UTF-8 decode + JSON.parse)
 * against Hookyard's (fatal UTF-8 decode + depth scan + the same JSON.parse), through `inject` on a
 * bare Fastify app, so the figure is the cost per request of the parser alone.
 *
 *     node bench/json-body-microbench.ts [--requests 20000]
 */
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerJsonBodyParser } from '../src/api/json-body.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' } } });
const requests = Number(values.requests);

function payloadOf(bytes: number): string {
  const item = { id: 'ord_123', amount: 1999, currency: 'eur', note: 'café ✓ 日本', tags: ['a', 'b'] };
  const items: unknown[] = [];
  while (JSON.stringify(items).length < bytes) items.push({ ...item, n: items.length });
  return JSON.stringify({ eventType: 'order.paid', payload: { items } });
}

async function build(hookyard: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  if (hookyard) registerJsonBodyParser(app);
  app.post('/', async () => 'ok');
  await app.ready();
  return app;
}

async function perRequestMicros(app: FastifyInstance, body: string, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await app.inject({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
  }
  return ((performance.now() - started) * 1000) / count;
}

const rows: string[] = [
  '| body | Fastify default (CPU µs/request) | Hookyard parser (CPU µs/request) | change |',
  '| --- | --- | --- | --- |',
];
for (const size of [1_024, 16_384, 262_144]) {
  const body = payloadOf(size);
  const count = Math.max(200, Math.round((requests * 1024) / size));
  const plain = await build(false);
  const ours = await build(true);
  await perRequestMicros(plain, body, Math.ceil(count / 10));
  await perRequestMicros(ours, body, Math.ceil(count / 10));
  // Alternate to spread any drift of the machine over both.
  let a = 0;
  let b = 0;
  for (let round = 0; round < 3; round++) {
    a += await perRequestMicros(plain, body, count);
    b += await perRequestMicros(ours, body, count);
  }
  a /= 3;
  b /= 3;
  rows.push(
    `| ${Buffer.byteLength(body)} B | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(((b - a) / a) * 100).toFixed(1)}% |`,
  );
  await plain.close();
  await ours.close();
}
console.log(rows.join('\n'));
