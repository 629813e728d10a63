import { type ErrorCode, errorCodes } from './codes.ts';

/** One item of Svix's `HTTPValidationError.detail`. */
export interface ValidationItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The only error the API layer throws on purpose; the error handler renders it. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly items: ValidationItem[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { items?: ValidationItem[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail ?? errorCodes[code].message, options.cause === undefined ? {} : { cause: options.cause });
    this.code = code;
    this.status = errorCodes[code].status;
    this.items = options.items;
    this.headers = options.headers ?? {};
  }

  /** The response body: `{code, detail}`, or Svix's validation shape with our code alongside. */
  toBody(): { code: ErrorCode; detail: string | ValidationItem[] } {
    return { code: this.code, detail: this.items ?? this.message };
  }

  /**
   * This error with each item's leading `body` replaced by `loc`: a check written for a route's body
   * (`["body", "filter", ...]`) reused on a value nested deeper, such as an endpoint inside an
   * environment document.
   */
  under(loc: (string | number)[]): ApiError {
    if (!this.items) return this;
    const items = this.items.map((item) => ({
      ...item,
      loc: item.loc[0] === 'body' ? [...loc, ...item.loc.slice(1)] : item.loc,
    }));
    return new ApiError(this.code, this.message, { items, headers: { ...this.headers }, cause: this });
  }

  static validation(loc: (string | number)[], msg: string, type = 'value_error'): ApiError {
    return new ApiError('validation', msg, { items: [{ loc, msg, type }] });
  }

  static notFound(what: string): ApiError {
    return new ApiError('not_found', `${what} not found`);
  }
}
