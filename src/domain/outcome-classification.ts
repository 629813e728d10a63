/**
 * What one attempt's result means, decided by table rather than by scattered ifs. Today every failure
 * is retried until the schedule runs out (Svix does the same); the `gone` and `slowDown` columns are
 * where 410-disables-the-endpoint and throttling plug in.
 */
export interface Classification {
  readonly success: boolean;
  /** Worth another attempt if the schedule has one left. */
  readonly retryable: boolean;
  /** The receiver asked us to slow down: its `Retry-After` is honoured. */
  readonly slowDown: boolean;
  /** The receiver says the endpoint is gone for good (Standard Webhooks: 410 should disable it). */
  readonly gone: boolean;
}

const SUCCESS: Classification = { success: true, retryable: false, slowDown: false, gone: false };
const FAILURE: Classification = { success: false, retryable: true, slowDown: false, gone: false };
const SLOW_DOWN: Classification = { ...FAILURE, slowDown: true };

/** Statuses that differ from "2xx succeeds, anything else fails and retries". */
export const statusTable: Readonly<Record<number, Classification>> = {
  410: { ...FAILURE, gone: true },
  429: SLOW_DOWN,
  502: SLOW_DOWN,
  503: SLOW_DOWN,
  504: SLOW_DOWN,
};

/**
 * Errors with no response. All retry: a refused connection or a blocked address may be fixed by the
 * endpoint owner (or HOOKYARD_ALLOWED_SUBNETS) before the schedule ends. Listed so a change of policy
 * for one of them is a one-line edit.
 */
export const errnoTable: Readonly<Record<string, Classification>> = {
  ECONNREFUSED: FAILURE,
  ECONNRESET: FAILURE,
  ETIMEDOUT: FAILURE,
  ENOTFOUND: FAILURE,
  EAI_AGAIN: FAILURE,
  EHOSTUNREACH: FAILURE,
  ENETUNREACH: FAILURE,
  EADDRBLOCKED: FAILURE,
  UND_ERR_CONNECT_TIMEOUT: FAILURE,
  UND_ERR_HEADERS_TIMEOUT: FAILURE,
  UND_ERR_BODY_TIMEOUT: FAILURE,
  UND_ERR_SOCKET: FAILURE,
  /** The endpoint has no unexpired signing secret: retried, since rotating one in fixes it. */
  ENOSECRET: FAILURE,
};

export function classifyStatus(status: number): Classification {
  if (status >= 200 && status < 300) return SUCCESS;
  return statusTable[status] ?? FAILURE;
}

export function classifyError(errno: string): Classification {
  return errnoTable[errno] ?? FAILURE;
}
