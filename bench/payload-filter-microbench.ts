/**
 * Payload-filter micro-benchmark: the cost fan-out pays per message for endpoints with payload
 * filters. Compiles F filters once (as the endpoint cache does), then evaluates all of them against
 * each of M messages of about 1 KB (parsed JSON, as ingest has it), and prints µs per message.
 *
 *     node bench/payload-filter-microbench.ts [--filters 100] [--messages 20000] [--rounds 5]
 *
 * The filters mix what users write: equality on a nested field, ranges, $in lists, array
 * "contains", $exist, a path across an array of objects, and $or. About a third match.
 */
import { parseArgs } from 'node:util';
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

const predicates = Array.from({ length: filterCount }, (_, n) => compileFilter(filter(n)));
const messages = Array.from({ length: messageCount }, (_, i) => message(i));
const bytes = Math.round(
  messages.reduce<number>((sum, m) => sum + JSON.stringify(m).length, 0) / messageCount,
);

let matched = 0;
const perMessage: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = process.hrtime.bigint();
  for (const payload of messages) {
    for (const predicate of predicates) if (predicate(payload)) matched++;
  }
  const elapsedNs = Number(process.hrtime.bigint() - started);
  perMessage.push(elapsedNs / 1000 / messageCount);
}
const sorted = [...perMessage].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
const share = matched / (rounds * messageCount * filterCount);
console.log(
  `${filterCount} filters over ${messageCount} messages of ~${bytes} B, ${rounds} rounds: ` +
    `median ${median.toFixed(2)} µs per message (${((median * 1000) / filterCount).toFixed(0)} ns per filter), ` +
    `best ${sorted[0]?.toFixed(2)} µs; ${(share * 100).toFixed(0)}% of evaluations matched`,
);
