import { type PayloadFilter, validateFilter } from '../../domain/payload-filter.ts';
import { ApiError } from '../../errors/api-error.ts';

/**
 * A payload filter as given to the endpoint or destination routes, checked; `{}` and null both mean
 * none, undefined means "not given" (a patch keeps the stored filter). A mistake is a 422 with one
 * item per issue, each `loc` naming the path inside the filter (`["body", "filter", "$or", 0, ...]`).
 */
export function filterOf(given: object | null | undefined): PayloadFilter | null | undefined {
  if (given === undefined || given === null) return given;
  const issues = validateFilter(given);
  if (issues.length > 0) {
    throw new ApiError('validation', `The filter is invalid: ${issues[0]?.message}.`, {
      items: issues.map((issue) => ({
        loc: ['body', 'filter', ...issue.path],
        msg: issue.message,
        type: 'value_error.filter',
      })),
    });
  }
  return Object.keys(given).length === 0 ? null : (given as PayloadFilter);
}
