/**
 * Payload-filter micro-benchmark: the cost fan-out pays per message for endpoints with payload
 * filters. F endpoints each with a filter, M messages of about 1 KB; prints µs per message for the
 * compiled filters alone, for fanOut with them (which parses the payload once), and for fanOut over
 * the same endpoints without filters (the baseline ingest pays today).
 *
 *     node bench/payload-filter-microbench.ts [--filters 100] [--messages 20000] [--rounds 5]
 *
 * The filters mix what users write: equality on a nested field, ranges, $in lists, array
 * "contains", $exist, a path across an array of objects, and $or. About a third match.
 */
import { parseArgs } from 'node:util';
import { fanOut } from '../src/domain/filter.ts';
import { compileFilter, type PayloadFilter } from '../src/domain/payload-filter.ts';

const { values } = parseArgs({
  options: {
    filters: { type: 'string', default: '100' },
    messages: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
  },
});
const filterCount = Number(values.filters);
const messageCount = Number(values.messages);
const rounds = Number(values.rounds);

const currencies = ['usd', 'eur', 'gbp', 'jpy'];
const tiers = ['free', 'pro', 'premium'];

function message(i: number): unknown {
  return {
    type: i % 3 === 0 ? 'invoice.paid' : 'invoice.created',
    id: `evt_${i.toString(36).padStart(12, '0')}`,
    data: {
      amount: (i * 37) % 5000,
      currency: currencies[i % currencies.length],
      customer: {
        id: `cus_${i % 997}`,
        tier: tiers[i % tiers.length],
        email: `user${i % 997}@example.com`,
        address: { country: i % 2 ? 'DE' : 'US', city: 'Berlin', line1: 'Hauptstraße 1', postcode: '10115' },
      },
      tags: i % 5 === 0 ? ['urgent', 'eu'] : ['eu'],
      items: Array.from({ length: 4 }, (_, k) => ({
        sku: `sku-${(i + k) % 50}`,
        qty: 1 + ((i + k) % 4),
        price: 100 + k * 25,
        description: 'A line item with a description long enough to look real',
      })),
      metadata: { source: i % 2 ? 'api' : 'dashboard', attempt: 1, note: 'x'.repeat(260) },
    },
  };
}

function filter(n: number): PayloadFilter {
  switch (n % 8) {
    case 0:
      return { type: 'invoice.paid', 'data.currency': currencies[n % 4] as string };
    case 1:
      return { 'data.amount': { $gte: (n * 50) % 4000, $lt: ((n * 50) % 4000) + 1500 } };
    case 2:
      return { 'data.customer.tier': { $in: ['pro', 'premium'] }, 'data.customer.address.country': 'DE' };
    case 3:
      return { 'data.tags': 'urgent' };
    case 4:
      return { 'data.items.sku': `sku-${n % 50}` };
    case 5:
      return { data: { metadata: { source: 'api' }, refund: { $exist: false } } };
    case 6:
      return { $or: [{ 'data.currency': 'eur' }, { 'data.amount': { $gt: 4500 } }] };
    default:
      return { 'data.customer.email': { $in: '@example.com' }, 'data.items.$.qty': { $gte: 4 } };
  }
}

const filters = Array.from({ length: filterCount }, (_, n) => filter(n));
const predicates = filters.map((f) => compileFilter(f));
const messages = Array.from({ length: messageCount }, (_, i) => message(i));
const texts = messages.map((m) => JSON.stringify(m));
const bytes = Math.round(texts.reduce((sum, text) => sum + text.length, 0) / messageCount);
const endpoint = (f: PayloadFilter | null) => ({
  disabled: false,
  eventTypes: null,
  channels: null,
  filter: f,
});
const filtered = filters.map((f) => endpoint(f));
const unfiltered = filters.map(() => endpoint(null));

/** Median CPU µs per message of `run` over the messages, across rounds. */
function measure(run: (index: number) => number): { median: number; best: number; hits: number } {
  const perMessage: number[] = [];
  let hits = 0;
  for (let round = 0; round < rounds; round++) {
    // CPU time, not wall time: on a shared machine the wall clock also counts other processes.
    const started = process.cpuUsage();
    for (let i = 0; i < messageCount; i++) hits += run(i);
    const used = process.cpuUsage(started);
    perMessage.push((used.user + used.system) / messageCount);
  }
  const sorted = [...perMessage].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, best: sorted[0] ?? 0, hits };
}

const evaluate = measure((i) => {
  let hits = 0;
  for (const predicate of predicates) if (predicate(messages[i])) hits++;
  return hits;
});
const withFilters = measure(
  (i) => fanOut(filtered, { eventType: 'invoice.paid', channels: null, payload: texts[i] as string }).length,
);
const without = measure(
  (i) =>
    fanOut(unfiltered, { eventType: 'invoice.paid', channels: null, payload: texts[i] as string }).length,
);
const share = evaluate.hits / (rounds * messageCount * filterCount);
const fmt = (r: { median: number; best: number }) =>
  `median ${r.median.toFixed(2)} µs (best ${r.best.toFixed(2)})`;
console.log(
  `${filterCount} endpoints, ${messageCount} messages of ~${bytes} B, ${rounds} rounds, CPU µs per message:`,
);
console.log(`  filters alone (parsed payload):      ${fmt(evaluate)}; ${(share * 100).toFixed(0)}% matched`);
console.log(`  fanOut with filters (parse + match): ${fmt(withFilters)}`);
console.log(`  fanOut, same endpoints, no filters:  ${fmt(without)}`);
