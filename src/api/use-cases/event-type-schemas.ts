import { Ajv } from 'ajv';
import { ApiError } from '../../errors/api-error.ts';

/**
 * An event type's `schemas` are JSON Schemas (draft 7, as Svix checks them): each version's schema must
 * compile, so a typo such as `"type": "objekt"` is a 422 when the event type is saved rather than a
 * surprise for whoever reads the schema later. Unknown keywords are allowed, as annotations.
 */
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });

export function assertEventTypeSchemas(schemas: Readonly<Record<string, unknown>> | null | undefined): void {
  if (!schemas) return;
  for (const [version, schema] of Object.entries(schemas)) {
    let problem: string | undefined;
    try {
      if (!ajv.validateSchema(schema as object)) problem = ajv.errorsText(ajv.errors);
      else ajv.compile(schema as object);
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    } finally {
      // Compiled only to be checked: keep nothing (and let a schema with an `$id` be saved again).
      ajv.removeSchema(schema as object);
    }
    if (problem !== undefined)
      throw ApiError.validation(
        ['body', 'schemas', version],
        `schema version ${version} is not a valid JSON Schema (draft 7): ${problem}`,
      );
  }
}
