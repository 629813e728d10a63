import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * The validator of every route's schemas: TypeBox's compiled check, as
 * `@fastify/type-provider-typebox`'s `TypeBoxValidatorCompiler` has it, with one difference. Bodies
 * are checked as sent, with no coercion (Svix's serde does none: Ajv's would turn a `null` header
 * value into "" and `"5"` into 5). Path and query values arrive as text, so they are converted to the
 * schema's types, but only when they fail the check as they are: that one's `Value.Convert` walked
 * every request's params and query against their schemas, 1.6 % of the process's CPU in the steady
 * bench (docs/performance.md, profiling item 17), while most requests' values (ids, cursors) are
 * strings already. Checking first changes no result: `Value.Convert` leaves a value that passes
 * as it is (a union keeps a value that any of its branches accepts).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const convert = httpPart !== 'body';
  return (value) => {
    if (check.Check(value)) return { value };
    if (convert) {
      const converted = Value.Convert(schema, value);
      if (check.Check(converted)) return { value: converted };
      return { error: check.Errors(converted) };
    }
    return { error: check.Errors(value) };
  };
};
