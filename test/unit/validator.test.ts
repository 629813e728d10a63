import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from 'typebox';
import { validatorCompiler } from '../../src/api/validator.ts';

const Query = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  with_content: Type.Optional(Type.Boolean()),
  event_types: Type.Optional(Type.Array(Type.String())),
  iterator: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
const Body = Type.Object({ attempts: Type.Integer() });

function compile(schema: typeof Query | typeof Body, httpPart: 'body' | 'querystring' | 'params') {
  const validate = validatorCompiler({ schema, httpPart, url: '/test', method: 'GET' });
  return (value: unknown) => validate(value) as { value?: unknown; error?: unknown[] };
}

describe('validatorCompiler', () => {
  it('hands a query that passes as text back untouched', () => {
    const query = { iterator: 'msg_2', event_types: ['a', 'b'] };
    const result = compile(Query, 'querystring')(query);
    assert.equal(result.value, query);
    assert.deepEqual(result.value, { iterator: 'msg_2', event_types: ['a', 'b'] });
  });

  it('converts query text to the schema types when it fails as text', () => {
    const result = compile(Query, 'querystring')({ limit: '5', with_content: 'false', event_types: 'a' });
    assert.equal(result.error, undefined);
    assert.deepEqual({ ...(result.value as object) }, { limit: 5, with_content: false, event_types: ['a'] });
  });

  it('keeps text that a union accepts as text, as conversion would', () => {
    const result = compile(Query, 'querystring')({ iterator: 'null' });
    assert.deepEqual(result.value, { iterator: 'null' });
  });

  it('reports query values that no conversion makes valid', () => {
    const result = compile(Query, 'querystring')({ limit: 'five' });
    assert.ok(result.error && result.error.length > 0);
    assert.equal(result.value, undefined);
  });

  it('never coerces a body', () => {
    const validate = compile(Body, 'body');
    assert.ok((validate({ attempts: '5' }).error?.length ?? 0) > 0);
    assert.deepEqual(validate({ attempts: 5 }).value, { attempts: 5 });
  });
});
