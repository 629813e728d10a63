import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  compileFilter,
  formatFilterPath,
  InvalidFilterError,
  type JsonValue,
  type PayloadFilter,
  validateFilter,
} from '../../src/domain/payload-filter.ts';

const matches = (filter: PayloadFilter, payload: unknown) => compileFilter(filter)(payload);

const order = {
  type: 'invoice.paid',
  data: {
    amount: 1250,
    currency: 'usd',
    customer: { tier: 'premium', email: 'ana@example.com' },
    tags: ['urgent', 'eu'],
    items: [
      { sku: 'a-1', qty: 1 },
      { sku: 'b-2', qty: 3 },
    ],
    deletedAt: null,
  },
};

test('an empty filter matches every payload', () => {
  assert.equal(matches({}, order), true);
  assert.equal(matches({}, null), true);
});

test('bare values are equality, strictly typed; every key must hold', () => {
  assert.equal(matches({ type: 'invoice.paid' }, order), true);
  assert.equal(matches({ type: 'invoice.failed' }, order), false);
  assert.equal(matches({ 'data.amount': 1250, 'data.currency': 'usd' }, order), true);
  assert.equal(matches({ 'data.amount': 1250, 'data.currency': 'eur' }, order), false);
  assert.equal(matches({ 'data.amount': '1250' }, order), false);
  assert.equal(matches({ 'data.deletedAt': null }, order), true);
});

test('dotted paths and nested objects mean the same', () => {
  assert.equal(matches({ data: { customer: { tier: 'premium' } } }, order), true);
  assert.equal(matches({ 'data.customer': { tier: 'premium' } }, order), true);
  assert.equal(matches({ data: { 'customer.tier': 'basic' } }, order), false);
});

test('comparison operators on numbers and on strings; mixed types never match', () => {
  assert.equal(matches({ 'data.amount': { $gte: 1000, $lt: 2000 } }, order), true);
  assert.equal(matches({ 'data.amount': { $gt: 1250 } }, order), false);
  assert.equal(matches({ 'data.amount': { $gte: 1250 } }, order), true);
  assert.equal(matches({ 'data.amount': { $lte: 1249 } }, order), false);
  assert.equal(matches({ 'data.amount': { $lt: '2000' } }, order), false);
  const timed = { time: '2025-01-15T10:00:00Z' };
  assert.equal(matches({ time: { $gte: '2025-01-01T00:00:00Z', $lt: '2025-02-01T00:00:00Z' } }, timed), true);
  assert.equal(matches({ time: { $gt: '2025-02-01T00:00:00Z' } }, timed), false);
});

test('$eq and $neq compare whole values deeply', () => {
  assert.equal(matches({ 'data.tags': { $eq: ['urgent', 'eu'] } }, order), true);
  assert.equal(matches({ 'data.tags': { $eq: ['eu', 'urgent'] } }, order), false);
  assert.equal(matches({ 'data.tags': { $eq: 'urgent' } }, order), false);
  assert.equal(
    matches({ 'data.customer': { $eq: { email: 'ana@example.com', tier: 'premium' } } }, order),
    true,
  );
  assert.equal(matches({ 'data.currency': { $neq: 'eur' } }, order), true);
  assert.equal(matches({ 'data.currency': { $neq: 'usd' } }, order), false);
});

test('$in and $nin: list membership, substring, and array fields', () => {
  assert.equal(matches({ type: { $in: ['invoice.paid', 'invoice.failed'] } }, order), true);
  assert.equal(matches({ type: { $nin: ['invoice.paid', 'invoice.failed'] } }, order), false);
  assert.equal(matches({ type: { $nin: ['user.created'] } }, order), true);
  // A scalar operand: substring of a string field, element of an array field (Outpost).
  assert.equal(matches({ 'data.customer.email': { $in: '@example.com' } }, order), true);
  assert.equal(matches({ 'data.tags': { $in: 'eu' } }, order), true);
  assert.equal(matches({ 'data.tags': { $nin: 'us' } }, order), true);
  // A list against an array field: some element listed / none listed.
  assert.equal(matches({ 'data.tags': { $in: ['us', 'eu'] } }, order), true);
  assert.equal(matches({ 'data.tags': { $in: ['us', 'apac'] } }, order), false);
  assert.equal(matches({ 'data.tags': { $nin: ['us', 'eu'] } }, order), false);
  assert.equal(matches({ 'data.tags': { $nin: ['us', 'apac'] } }, order), true);
});

test('arrays: a bare value means contains, a bare list means contains each', () => {
  assert.equal(matches({ 'data.tags': 'urgent' }, order), true);
  assert.equal(matches({ 'data.tags': 'us' }, order), false);
  assert.equal(matches({ 'data.tags': ['eu', 'urgent'] }, order), true);
  assert.equal(matches({ 'data.tags': ['eu', 'us'] }, order), false);
  assert.equal(matches({ 'data.currency': ['usd'] }, order), false);
});

test('paths cross arrays of objects: by index, by $, and by name', () => {
  assert.equal(matches({ 'data.items.0.sku': 'a-1' }, order), true);
  assert.equal(matches({ 'data.items.1.sku': 'a-1' }, order), false);
  assert.equal(matches({ 'data.items.7.sku': 'a-1' }, order), false);
  assert.equal(matches({ 'data.items.$.sku': 'b-2' }, order), true);
  assert.equal(matches({ 'data.items.sku': 'b-2' }, order), true);
  assert.equal(matches({ 'data.items.qty': { $gt: 2 } }, order), true);
  assert.equal(matches({ 'data.items.qty': { $gt: 3 } }, order), false);
  // A nested object is one filter per element; dotted keys may be met by different elements.
  assert.equal(matches({ 'data.items': { sku: 'a-1', qty: 3 } }, order), false);
  assert.equal(matches({ 'data.items': { sku: 'b-2', qty: 3 } }, order), true);
  assert.equal(matches({ 'data.items.sku': 'a-1', 'data.items.qty': 3 }, order), true);
  // A payload that is itself an array.
  assert.equal(matches({ '$.event': 'meetup' }, [{ venue: 'x' }, { event: 'meetup' }]), true);
  assert.equal(matches({ event: 'meetup' }, [{ venue: 'x' }, { event: 'meetup' }]), true);
  assert.equal(matches({ '$.event': 'meetup' }, { event: 'meetup' }), false);
});

test('missing fields fail every condition but $exist: false; null exists', () => {
  const conditions: JsonValue[] = [
    'x',
    null,
    { $eq: null },
    { $neq: 'x' },
    { $nin: ['x'] },
    { $gt: 0 },
    { $in: 'x' },
    { $exist: true },
  ];
  for (const condition of conditions) {
    assert.equal(matches({ 'data.refund': condition }, order), false, JSON.stringify(condition));
  }
  assert.equal(matches({ 'data.refund': { $exist: false } }, order), true);
  assert.equal(matches({ 'data.deletedAt': { $exist: true } }, order), true);
  assert.equal(matches({ 'data.deletedAt': { $exist: false } }, order), false);
  assert.equal(matches({ 'data.items.refund': { $exist: false } }, order), true);
  assert.equal(matches({ 'data.items.sku': { $exist: false } }, order), false);
  // Through a scalar or null, nothing is reached.
  assert.equal(matches({ 'type.length': { $exist: false } }, order), true);
  assert.equal(matches({ 'data.deletedAt.at': { $exist: false } }, order), true);
});

test('inherited properties are not fields', () => {
  assert.equal(matches({ 'data.constructor': { $exist: true } }, order), false);
  assert.equal(matches({ 'type.length': 12 }, order), false);
  assert.equal(matches(JSON.parse('{"__proto__": {"$exist": true}}'), order), false);
  assert.equal(matches({ 'data.toString': { $exist: false } }, order), true);
  const own = JSON.parse('{"__proto__": {"x": 1}}');
  assert.equal(matches({ '__proto__.x': 1 }, own), true);
});

test('$or and $and, at the top and inside a nested object', () => {
  assert.equal(matches({ $or: [{ type: 'x' }, { 'data.tags': 'eu' }] }, order), true);
  assert.equal(matches({ $or: [{ type: 'x' }, { 'data.tags': 'us' }] }, order), false);
  assert.equal(matches({ $and: [{ type: 'invoice.paid' }, { 'data.amount': { $gte: 1000 } }] }, order), true);
  assert.equal(
    matches({ $and: [{ type: 'invoice.paid' }, { 'data.amount': { $gte: 5000 } }] }, order),
    false,
  );
  assert.equal(
    matches({ data: { $or: [{ currency: 'eur' }, { 'customer.tier': 'premium' }] } }, order),
    true,
  );
  assert.equal(
    matches({ 'data.items': { $and: [{ sku: { $in: 'b-' } }, { qty: { $lte: 3 } }] } }, order),
    true,
  );
  assert.equal(matches({ type: 'invoice.paid', $or: [{ 'data.currency': 'eur' }] }, order), false);
});

test('validateFilter names the path of every mistake', () => {
  const issues = validateFilter({
    type: { $gte: true },
    data: { amount: { $between: [1, 2] }, 'x..y': 1 },
    $or: [{ tags: { $exist: 'yes' } }, 'nope'],
    $and: [],
    'items.$x': 1,
    $gt: 1,
    mixed: { $eq: 1, other: 2 },
    list: { $in: [{ a: 1 }] },
    empty: {},
    only: { $exist: false, $eq: 1 },
  });
  const shown = issues.map((issue) => formatFilterPath(issue.path));
  assert.deepEqual(shown, [
    'type.$gte',
    'data.amount.$between',
    'data.x..y',
    '$or[0].tags.$exist',
    '$or[1]',
    '$and',
    'items.$x',
    '$gt',
    'mixed.other',
    'list.$in[0]',
    'empty',
    'only.$exist',
  ]);
  for (const issue of issues) assert.ok(issue.message.length > 10, issue.message);
  assert.match(issues[1]?.message ?? '', /unknown operator \$between/);
});

test('validateFilter refuses what is not an object, and compileFilter throws with the issues', () => {
  for (const bad of [null, [], 'x', 3, true]) {
    assert.deepEqual(validateFilter(bad), [{ path: [], message: 'a filter must be a JSON object' }]);
  }
  assert.throws(
    () => compileFilter({ a: { $gt: [] } }),
    (error: unknown) =>
      error instanceof InvalidFilterError &&
      error.issues.length === 1 &&
      /^filter a\.\$gt: \$gt takes a number or a string$/.test(error.message),
  );
});

test('a filter nested deeper than the limit is refused, not a stack overflow', () => {
  let filter: PayloadFilter = { leaf: 1 };
  for (let i = 0; i < 40; i++) filter = { $or: [filter] };
  assert.ok(validateFilter(filter).some((issue) => /at most 16 levels/.test(issue.message)));
});

// ---- Properties ----

const key = fc.constantFrom('a', 'b', 'c', 'd');
const scalar = fc.oneof(
  fc.constantFrom(null, true, false, 0, 1, 2, -1),
  fc.constantFrom('a', 'b', 'x', ''),
  fc.integer({ min: -5, max: 5 }),
);
const payload = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const path = fc
  .array(fc.oneof(key, fc.constantFrom('$', '0', '1')), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'))
  .filter((joined) => joined !== '$');
const operatorCondition = fc.oneof(
  fc.record({ $eq: payload }),
  fc.record({ $neq: payload }),
  fc.record({ $gt: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'b')) }),
  fc.record({ $gte: fc.integer({ min: -5, max: 5 }), $lte: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ $lt: fc.constantFrom('a', 'x', 5) }),
  fc.record({ $in: fc.oneof(fc.array(scalar, { maxLength: 4 }), fc.constantFrom('a', 'x', 1)) }),
  fc.record({ $nin: fc.array(scalar, { maxLength: 4 }) }),
  fc.record({ $exist: fc.boolean() }),
);
const filter: fc.Arbitrary<PayloadFilter> = fc.letrec((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(path, fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), operatorCondition), {
      maxKeys: 3,
    }),
    fc.record({ $or: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ $and: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }),
    fc.dictionary(
      key,
      tie('filter').filter((nested) => Object.keys(nested as object).length > 0),
      { minKeys: 1, maxKeys: 2 },
    ),
  ),
})).filter as fc.Arbitrary<PayloadFilter>;

test('property: generated filters are valid, and evaluating them never throws', () => {
  fc.assert(
    fc.property(filter, fc.array(payload, { maxLength: 5 }), (generated, payloads) => {
      assert.deepEqual(validateFilter(generated), []);
      const predicate = compileFilter(generated);
      for (const item of payloads) assert.equal(typeof predicate(item), 'boolean');
    }),
    { numRuns: 500 },
  );
});

test('property: $or is a disjunction, $and a conjunction, and $exist splits every payload', () => {
  fc.assert(
    fc.property(filter, filter, path, payload, (left, right, field, item) => {
      const l = compileFilter(left)(item);
      const r = compileFilter(right)(item);
      assert.equal(compileFilter({ $or: [left, right] })(item), l || r);
      assert.equal(compileFilter({ $and: [left, right] })(item), l && r);
      if (!Object.hasOwn(left, '$and')) assert.equal(compileFilter({ ...left, $and: [right] })(item), l && r);
      const present = compileFilter({ [field]: { $exist: true } })(item);
      assert.equal(compileFilter({ [field]: { $exist: false } })(item), !present);
    }),
    { numRuns: 500 },
  );
});

test('property: a nested object means the same as a dotted key when no array is crossed', () => {
  const tree = fc.dictionary(key, fc.oneof(scalar, fc.dictionary(key, scalar, { maxKeys: 3 })), {
    maxKeys: 4,
  });
  fc.assert(
    fc.property(key, key, fc.oneof(scalar, operatorCondition), tree, (outer, inner, condition, item) => {
      // The one difference, documented: a nested object needs its field present, a dotted
      // {$exist: false} does not.
      fc.pre(
        !(typeof condition === 'object' && condition !== null && '$exist' in condition && !condition.$exist),
      );
      const nested = compileFilter({ [outer]: { [inner]: condition } })(item);
      assert.equal(compileFilter({ [`${outer}.${inner}`]: condition })(item), nested);
    }),
    { numRuns: 500 },
  );
});

test('property: every payload matches a filter built from its own leaves', () => {
  const leaves = (value: unknown, prefix: string, into: [string, JsonValue][]) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [name, child] of Object.entries(value))
        leaves(child, prefix ? `${prefix}.${name}` : name, into);
    } else if (prefix !== '') {
      into.push([prefix, value as JsonValue]);
    }
    return into;
  };
  fc.assert(
    fc.property(fc.dictionary(key, payload, { maxKeys: 4 }), (item) => {
      const own = leaves(item, '', []);
      const bare = Object.fromEntries(
        own.map(([field, value]) => [field, Array.isArray(value) ? { $eq: value } : value]),
      );
      assert.equal(compileFilter(bare)(item), true);
      for (const [field, value] of own) {
        assert.equal(compileFilter({ [field]: { $eq: value } })(item), true);
        assert.equal(compileFilter({ [field]: { $neq: value } })(item), false);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: an unknown operator anywhere is reported at its path', () => {
  fc.assert(
    fc.property(fc.array(key, { minLength: 1, maxLength: 4 }), (segments) => {
      let bad: PayloadFilter = { [segments.at(-1) as string]: { $regexp: 'x' } };
      for (const segment of segments.slice(0, -1).reverse()) bad = { [segment]: bad };
      const issues = validateFilter(bad);
      assert.equal(issues.length, 1);
      assert.deepEqual(issues[0]?.path, [...segments, '$regexp']);
    }),
  );
});

test('property: on any JSON, validateFilter never throws, and compileFilter accepts exactly what it passes', () => {
  const json = fc.jsonValue({ maxDepth: 4 });
  const withOperators = fc.dictionary(
    fc.oneof(
      fc.constantFrom('$eq', '$gt', '$in', '$exist', '$or', '$and', '$x', 'a.b', '', 'a..b'),
      fc.string(),
    ),
    json,
    { maxKeys: 4 },
  );
  fc.assert(
    fc.property(fc.oneof(json, withOperators), payload, (candidate, item) => {
      const issues = validateFilter(candidate);
      if (issues.length === 0) {
        assert.equal(typeof compileFilter(candidate)(item), 'boolean');
      } else {
        assert.throws(() => compileFilter(candidate), InvalidFilterError);
        for (const issue of issues) assert.ok(issue.message.length > 0);
      }
    }),
    { numRuns: 1000 },
  );
});
