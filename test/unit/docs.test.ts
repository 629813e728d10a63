import assert from 'node:assert/strict';
import { it } from 'node:test';
import { render } from '../../scripts/gen-docs.ts';

it('generated tables in README and docs match the settings and error registries (run `npm run docs`)', () => {
  for (const [path, { current, expected }] of render(new URL('../../', import.meta.url))) {
    assert.equal(current, expected, `${path} is stale: run npm run docs`);
  }
});
