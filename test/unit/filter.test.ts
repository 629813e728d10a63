import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { endpointMatches, fanOut } from '../../src/domain/filter.ts';

const endpoint = (
  over: Partial<{ disabled: boolean; eventTypes: string[] | null; channels: string[] | null }> = {},
) => ({
  disabled: false,
  eventTypes: null,
  channels: null,
  ...over,
});

test('an endpoint with no filters hears every message', () => {
  assert.equal(endpointMatches(endpoint(), { eventType: 'a', channels: null }), true);
  assert.equal(endpointMatches(endpoint(), { eventType: 'a', channels: ['x'] }), true);
});

test('a disabled endpoint hears nothing', () => {
  assert.equal(endpointMatches(endpoint({ disabled: true }), { eventType: 'a', channels: null }), false);
});

test('event type filters', () => {
  const filtered = endpoint({ eventTypes: ['user.signup', 'user.deleted'] });
  assert.equal(endpointMatches(filtered, { eventType: 'user.signup', channels: null }), true);
  assert.equal(endpointMatches(filtered, { eventType: 'invoice.paid', channels: null }), false);
});

test('channel filters: intersection, and none on the message means no match', () => {
  const filtered = endpoint({ channels: ['eu', 'us'] });
  assert.equal(endpointMatches(filtered, { eventType: 'a', channels: ['us', 'apac'] }), true);
  assert.equal(endpointMatches(filtered, { eventType: 'a', channels: ['apac'] }), false);
  assert.equal(endpointMatches(filtered, { eventType: 'a', channels: null }), false);
  assert.equal(endpointMatches(filtered, { eventType: 'a', channels: [] }), false);
});

test('fanOut keeps exactly the matching endpoints, in order', () => {
  const name = fc.constantFrom('a', 'b', 'c');
  const list = fc.option(fc.uniqueArray(name, { minLength: 1 }), { nil: null });
  fc.assert(
    fc.property(
      fc.array(fc.record({ id: fc.nat(), disabled: fc.boolean(), eventTypes: list, channels: list })),
      name,
      list,
      (endpoints, eventType, channels) => {
        const message = { eventType, channels };
        const chosen = fanOut(endpoints, message);
        // Svix's rule, stated directly on each endpoint rather than through endpointMatches.
        const hears = (item: (typeof endpoints)[number]) =>
          !item.disabled &&
          (item.eventTypes === null || item.eventTypes.includes(eventType)) &&
          (item.channels === null || item.channels.some((channel) => channels?.includes(channel) ?? false));
        // Every endpoint is checked on its own, so the set chosen and its order are both pinned down.
        assert.deepEqual(
          chosen.map((item) => endpoints.indexOf(item)),
          endpoints.flatMap((item, index) => (hears(item) ? [index] : [])),
        );
        for (const item of chosen) {
          assert.equal(item.disabled, false);
          if (item.eventTypes) assert.ok(item.eventTypes.includes(eventType));
          if (item.channels) assert.ok(channels?.some((channel) => item.channels?.includes(channel)));
        }
      },
    ),
  );
});
