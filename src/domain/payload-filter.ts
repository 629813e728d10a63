/**
 * Payload filters: a JSON document that says which messages an endpoint hears, by their payload.
 * The syntax is the one Convoy and Outpost users know:
 *
 *   { "data.amount": { "$gte": 100 }, "data": { "currency": "usd" },
 *     "$or": [{ "type": "invoice.paid" }, { "tags": "urgent" }] }
 *
 * Semantics (where Convoy and Outpost differ, the choice is named):
 * - Keys are paths. A dotted key (`data.amount`, Convoy) and a nested object (`{data: {amount: ..}}`,
 *   Outpost) mean the same; every condition of a filter must hold (implicit AND).
 * - A path crosses arrays: a numeric segment is an index (`items.0.sku`), `$` is any element
 *   (`items.$.sku`, Convoy), and a name applied to an array applies to each of its elements
 *   (`items.sku`, Outpost). A condition holds when it holds for at least one value the path reaches.
 *   A nested object under a key is one filter for the value(s) there, so `{items: {sku: "a", qty: 2}}`
 *   needs one element with both, while `{"items.sku": "a", "items.qty": 2}` may be met by two. A nested
 *   object needs its field present (Outpost), so `{a: {b: {$exist: false}}}` fails where `a` is
 *   missing while `{"a.b": {$exist: false}}` holds.
 * - A missing field fails every condition except `{$exist: false}` (Outpost; Convoy skips missing
 *   keys inconsistently). `null` is a value: it exists.
 * - A bare value is equality, and against an array field it means "contains" (both); a bare array
 *   against an array field means "contains each" (Outpost).
 * - `$eq`/`$neq` compare the whole value, arrays and objects deeply, types strictly (no "5" == 5).
 * - `$gt`, `$gte`, `$lt`, `$lte` compare two numbers, or two strings by code unit (so RFC 3339 times
 *   order, as in Outpost); any other pair does not match.
 * - `$in`/`$nin` with a list: the value is (not) one of the listed scalars; on an array field, some
 *   element is in the list / no element is (MongoDB's reading: Convoy and Outpost never match there).
 *   With a scalar: an array field contains it, or a string field contains it as a substring (Outpost).
 * - `$exist: true|false`: the path reaches some value (null included) / none.
 * - `$or` and `$and` take a non-empty list of filters, at the top or inside a nested object.
 * - A payload that is an array is reached like any other: `$.event` or `event` (Convoy's `$.` root).
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export type PayloadFilter = { readonly [key: string]: JsonValue };

/** One mistake in a filter: where (segments from the filter's root) and what to fix. */
export interface FilterIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export type PayloadPredicate = (payload: unknown) => boolean;

const COMPARISONS = ['$gt', '$gte', '$lt', '$lte'] as const;
const OPERATORS = new Set<string>(['$eq', '$neq', ...COMPARISONS, '$in', '$nin', '$exist']);
const LOGICAL = new Set<string>(['$or', '$and']);
const MAX_DEPTH = 16;

function isObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

function isOperatorObject(value: { readonly [key: string]: unknown }): boolean {
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((key) => OPERATORS.has(key));
}

function splitPath(key: string): string[] {
  return key.split('.');
}

/** Every mistake in `filter`, each with its path; empty when the filter is valid. */
export function validateFilter(filter: unknown): FilterIssue[] {
  const issues: FilterIssue[] = [];
  if (!isObject(filter)) {
    issues.push({ path: [], message: 'a filter must be a JSON object' });
    return issues;
  }
  validateObject(filter, [], issues, 0);
  return issues;
}

function validateObject(
  filter: { readonly [key: string]: unknown },
  at: readonly (string | number)[],
  issues: FilterIssue[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) {
    issues.push({ path: at, message: `a filter may nest at most ${MAX_DEPTH} levels` });
    return;
  }
  for (const [key, value] of Object.entries(filter)) {
    const path = [...at, key];
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value) || value.length === 0) {
        issues.push({ path, message: `${key} takes a non-empty list of filters` });
        continue;
      }
      for (const [index, item] of value.entries()) {
        if (!isObject(item))
          issues.push({ path: [...path, index], message: 'each item must be a filter object' });
        else validateObject(item, [...path, index], issues, depth + 1);
      }
      continue;
    }
    if (key.startsWith('$') && !key.startsWith('$.')) {
      issues.push({
        path,
        message: OPERATORS.has(key)
          ? `${key} must apply to a field, as in {"field": {"${key}": ...}}`
          : `unknown operator ${key}; use one of ${[...OPERATORS, ...LOGICAL].join(', ')}`,
      });
      continue;
    }
    const segments = splitPath(key);
    if (segments.some((segment) => segment === '')) {
      issues.push({ path, message: 'a path has an empty segment (a leading, trailing or double dot)' });
      continue;
    }
    if (segments.some((segment) => segment.startsWith('$') && segment !== '$')) {
      issues.push({ path, message: 'a path segment starting with $ must be $ alone (any array element)' });
      continue;
    }
    validateCondition(value, path, issues, depth);
  }
}

function validateCondition(
  value: unknown,
  path: readonly (string | number)[],
  issues: FilterIssue[],
  depth: number,
): void {
  if (isScalar(value)) {
    if (typeof value === 'number' && !Number.isFinite(value))
      issues.push({ path, message: 'numbers must be finite' });
    return;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      if (!isScalar(item))
        issues.push({ path: [...path, index], message: 'a list to match may hold only scalars' });
    }
    return;
  }
  if (!isObject(value)) {
    issues.push({ path, message: 'a condition must be a JSON value' });
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    issues.push({ path, message: 'an empty object matches nothing useful; use {"$exist": true}' });
    return;
  }
  const operators = keys.filter((key) => OPERATORS.has(key));
  if (operators.length === 0) {
    validateObject(value, path, issues, depth + 1);
    return;
  }
  if (operators.length !== keys.length) {
    const other = keys.find((key) => !OPERATORS.has(key)) ?? '';
    issues.push({
      path: [...path, other],
      message: LOGICAL.has(other)
        ? `${other} cannot stand beside ${operators[0]}; put the comparison inside the ${other} list`
        : other.startsWith('$')
          ? `unknown operator ${other}; use one of ${[...OPERATORS].join(', ')}`
          : 'operators and fields cannot be mixed in one object; nest the field or use a dotted path',
    });
    return;
  }
  for (const operator of operators) validateOperator(operator, value[operator], [...path, operator], issues);
  if (value['$exist'] === false && operators.length > 1) {
    issues.push({
      path: [...path, '$exist'],
      message: '$exist: false cannot be combined with other operators',
    });
  }
}

function validateOperator(
  operator: string,
  operand: unknown,
  path: readonly (string | number)[],
  issues: FilterIssue[],
): void {
  switch (operator) {
    case '$exist':
      if (typeof operand !== 'boolean') issues.push({ path, message: '$exist takes true or false' });
      return;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (!(typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))))
        issues.push({ path, message: `${operator} takes a number or a string` });
      return;
    case '$in':
    case '$nin':
      if (Array.isArray(operand)) {
        for (const [index, item] of operand.entries()) {
          if (!isScalar(item))
            issues.push({ path: [...path, index], message: `${operator} lists may hold only scalars` });
        }
      } else if (!isScalar(operand) || operand === null) {
        issues.push({
          path,
          message: `${operator} takes a list of values, or a string or number to look for`,
        });
      }
      return;
    default:
      checkJson(operand, path, issues);
  }
}

function checkJson(value: unknown, path: readonly (string | number)[], issues: FilterIssue[]): void {
  if (isScalar(value)) {
    if (typeof value === 'number' && !Number.isFinite(value))
      issues.push({ path, message: 'numbers must be finite' });
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkJson(item, [...path, index], issues);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) checkJson(item, [...path, key], issues);
  } else {
    issues.push({ path, message: 'not a JSON value' });
  }
}

/** A filter path as users write it: `$or[1].data.amount.$gte`. */
export function formatFilterPath(path: readonly (string | number)[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

export class InvalidFilterError extends Error {
  override name = 'InvalidFilterError';
  readonly issues: readonly FilterIssue[];
  constructor(issues: readonly FilterIssue[]) {
    const first = issues[0];
    super(first ? `filter ${formatFilterPath(first.path) || '(root)'}: ${first.message}` : 'invalid filter');
    this.issues = issues;
  }
}

/**
 * Compiles a filter once into a predicate over a parsed payload. Paths are split and operators
 * resolved here, so evaluating walks the payload without allocating. Throws InvalidFilterError
 * for a filter validateFilter rejects.
 */
export function compileFilter(filter: unknown): PayloadPredicate {
  const issues = validateFilter(filter);
  if (issues.length > 0) throw new InvalidFilterError(issues);
  return compileObject(filter as { readonly [key: string]: unknown });
}

type ValueTest = (value: unknown) => boolean;

function compileObject(filter: { readonly [key: string]: unknown }): PayloadPredicate {
  const parts: PayloadPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$or' || key === '$and') {
      const branches = (value as unknown[]).map((item) =>
        compileObject(item as { readonly [key: string]: unknown }),
      );
      parts.push(key === '$or' ? anyOf(branches) : allOf(branches));
      continue;
    }
    parts.push(compileField(splitPath(key), value));
  }
  return allOf(parts);
}

function allOf(parts: readonly PayloadPredicate[]): PayloadPredicate {
  if (parts.length === 1 && parts[0]) return parts[0];
  return (payload) => {
    for (const part of parts) if (!part(payload)) return false;
    return true;
  };
}

function anyOf(parts: readonly PayloadPredicate[]): PayloadPredicate {
  return (payload) => {
    for (const part of parts) if (part(payload)) return true;
    return false;
  };
}

function compileField(segments: readonly string[], condition: unknown): PayloadPredicate {
  if (isObject(condition) && !isOperatorObject(condition)) {
    // A nested filter, evaluated against each value the path reaches.
    const nested = compileObject(condition);
    const each: ValueTest = (value) => (Array.isArray(value) ? value.some(each) : nested(value));
    return (payload) => reaches(payload, segments, 0, each);
  }
  if (isObject(condition) && condition['$exist'] === false) {
    return (payload) => !reaches(payload, segments, 0, always);
  }
  const test = compileValueTest(condition);
  return (payload) => reaches(payload, segments, 0, test);
}

const always: ValueTest = () => true;

/**
 * Whether `test` holds for some value reached from `value` by `segments[index..]`. Arrays met on
 * the way are crossed as the header comment says.
 */
function reaches(value: unknown, segments: readonly string[], index: number, test: ValueTest): boolean {
  if (index === segments.length) return test(value);
  const segment = segments[index] as string;
  if (Array.isArray(value)) {
    if (segment === '$') {
      for (const item of value) if (reaches(item, segments, index + 1, test)) return true;
      return false;
    }
    if (isIndex(segment)) {
      const position = Number(segment);
      return position < value.length && reaches(value[position], segments, index + 1, test);
    }
    for (const item of value) if (reaches(item, segments, index, test)) return true;
    return false;
  }
  if (typeof value !== 'object' || value === null || segment === '$') return false;
  // JSON objects inherit only functions and the __proto__ accessor from Object.prototype, so a
  // plain read tells own fields apart without the cost of Object.hasOwn on the hot path.
  if (segment === '__proto__' && !Object.hasOwn(value, segment)) return false;
  const next = (value as Record<string, unknown>)[segment];
  if (next === undefined || typeof next === 'function') return false;
  return reaches(next, segments, index + 1, test);
}

function isIndex(segment: string): boolean {
  if (segment.length === 0 || segment.length > 9) return false;
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return segment === '0' || segment.charCodeAt(0) !== 48;
}

function compileValueTest(condition: unknown): ValueTest {
  if (isScalar(condition)) {
    return (value) => value === condition || (Array.isArray(value) && value.includes(condition));
  }
  if (Array.isArray(condition)) {
    const wanted = condition as readonly unknown[];
    return (value) => Array.isArray(value) && wanted.every((item) => value.includes(item));
  }
  const operators = condition as { readonly [key: string]: unknown };
  const tests = Object.entries(operators).map(([operator, operand]) => compileOperator(operator, operand));
  if (tests.length === 1 && tests[0]) return tests[0];
  return (value) => {
    for (const test of tests) if (!test(value)) return false;
    return true;
  };
}

function compileOperator(operator: string, operand: unknown): ValueTest {
  switch (operator) {
    case '$eq':
      return isScalar(operand) ? (value) => value === operand : (value) => jsonEqual(value, operand);
    case '$neq':
      return isScalar(operand) ? (value) => value !== operand : (value) => !jsonEqual(value, operand);
    case '$gt':
      return compareWith(operand as number | string, (order) => order > 0);
    case '$gte':
      return compareWith(operand as number | string, (order) => order >= 0);
    case '$lt':
      return compareWith(operand as number | string, (order) => order < 0);
    case '$lte':
      return compareWith(operand as number | string, (order) => order <= 0);
    case '$in':
      return membership(operand);
    case '$nin': {
      const isIn = membership(operand);
      return (value) => !isIn(value);
    }
    case '$exist':
      return always;
    default:
      throw new InvalidFilterError([{ path: [operator], message: `unknown operator ${operator}` }]);
  }
}

function compareWith(operand: number | string, accept: (order: number) => boolean): ValueTest {
  const kind = typeof operand;
  return (value) => {
    if (typeof value !== kind) return false;
    const left = value as number | string;
    return accept(left < operand ? -1 : left > operand ? 1 : 0);
  };
}

function membership(operand: unknown): ValueTest {
  if (Array.isArray(operand)) {
    const listed = new Set<unknown>(operand);
    return (value) => {
      if (Array.isArray(value)) {
        for (const item of value) if (listed.has(item)) return true;
        return false;
      }
      return listed.has(value);
    };
  }
  return (value) => {
    if (Array.isArray(value)) return value.includes(operand);
    return typeof value === 'string' && typeof operand === 'string' && value.includes(operand);
  };
}

/** Deep equality of JSON values: same types, arrays in order, objects with the same keys. */
export function jsonEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    if (!Array.isArray(right) || left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) if (!jsonEqual(left[i], right[i])) return false;
    return true;
  }
  if (!isObject(left) || !isObject(right) || Array.isArray(right)) return false;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(right, key) || !jsonEqual(left[key], right[key])) return false;
  }
  return true;
}
