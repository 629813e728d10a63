/**
 * What one attempt's result means, decided by table rather than by scattered ifs. Every failure is
 * retried until the schedule runs out (Svix does the same); the other columns feed the endpoint
 * policies (docs/delivery-policies.md): `gone` disables the endpoint, `slowDown` pauses it
 * (backpressure), `unreachable` counts towards opening its circuit breaker.
 */
export interface Classification {
  readonly success: boolean;
  /** Worth another attempt if the schedule has one left. */
  readonly retryable: boolean;
  /** The receiver asked us to slow down: its `Retry-After` is honoured. */
  readonly slowDown: boolean;
  /** The receiver says the endpoint is gone for good (Standard Webhooks: 410 should disable it). */
  readonly gone: boolean;
  /** No response because the host looks down (refused, unresolvable, timed out): counts towards the circuit breaker. */
  readonly unreachable: boolean;
}

const SUCCESS: Classification = {
  success: true,
  retryable: false,
  slowDown: false,
  gone: false,
  unreachable: false,
};
const FAILURE: Classification = {
  success: false,
  retryable: true,
  slowDown: false,
  gone: false,
  unreachable: false,
};
const SLOW_DOWN: Classification = { ...FAILURE, slowDown: true };
const UNREACHABLE: Classification = { ...FAILURE, unreachable: true };

/** Statuses that differ from "2xx succeeds, anything else fails and retries". */
export const statusTable: Readonly<Record<number, Classification>> = {
  410: { ...FAILURE, gone: true },
  429: SLOW_DOWN,
  502: SLOW_DOWN,
  503: SLOW_DOWN,
  504: SLOW_DOWN,
};

/**
 * Errors with no response: how each is classified and how an attempt's response text names it. All
 * retry: a refused connection or a blocked address may be fixed by the endpoint owner (or
 * HOOKYARD_ALLOWED_SUBNETS) before the schedule ends. `UNREACHABLE` marks those that say the host (not
 * one request) is down; a reset mid-response or a blocked address does not, since the host answered
 * or was never tried. Listed so a change of policy is a one-line edit.
 */
const UNTRUSTED =
  "the receiver's TLS certificate does not chain to a trusted CA (an endpoint's egress.caBundle can name its CA)";

const errnos: Readonly<Record<string, { classification: Classification; text?: string }>> = {
  ECONNREFUSED: { classification: UNREACHABLE, text: 'connection refused' },
  ECONNRESET: { classification: FAILURE, text: 'connection reset by the receiver' },
  ETIMEDOUT: { classification: UNREACHABLE, text: 'timed out' },
  ENOTFOUND: { classification: UNREACHABLE, text: 'host name not found' },
  EAI_AGAIN: { classification: UNREACHABLE, text: 'temporary DNS failure' },
  EHOSTUNREACH: { classification: UNREACHABLE, text: 'host unreachable' },
  ENETUNREACH: { classification: UNREACHABLE, text: 'network unreachable' },
  EADDRBLOCKED: { classification: FAILURE },
  UND_ERR_CONNECT_TIMEOUT: { classification: UNREACHABLE, text: 'timed out while connecting' },
  UND_ERR_HEADERS_TIMEOUT: { classification: UNREACHABLE, text: 'timed out waiting for response headers' },
  UND_ERR_BODY_TIMEOUT: { classification: FAILURE, text: 'timed out reading the response body' },
  UND_ERR_SOCKET: { classification: FAILURE, text: 'the connection closed unexpectedly' },
  EPROTO: { classification: FAILURE, text: 'TLS protocol error' },
  // The receiver's certificate failed verification: the host answered, so not unreachable.
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { classification: FAILURE, text: UNTRUSTED },
  UNABLE_TO_GET_ISSUER_CERT: { classification: FAILURE, text: UNTRUSTED },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { classification: FAILURE, text: UNTRUSTED },
  SELF_SIGNED_CERT_IN_CHAIN: { classification: FAILURE, text: UNTRUSTED },
  DEPTH_ZERO_SELF_SIGNED_CERT: { classification: FAILURE, text: UNTRUSTED },
  CERT_HAS_EXPIRED: { classification: FAILURE, text: "the receiver's TLS certificate has expired" },
  ERR_TLS_CERT_ALTNAME_INVALID: {
    classification: FAILURE,
    text: "the receiver's TLS certificate is not for this host name",
  },
  /**
   * No connection of Hookyard's own pool to the origin freed up in time, so the request was never
   * sent: retried, and not held against the receiver (it is not unreachable, only busy with our others).
   * The HTTP client writes its text.
   */
  EPOOLWAIT: { classification: FAILURE },
  /** The endpoint has no unexpired signing secret: retried, since rotating one in fixes it. */
  ENOSECRET: { classification: FAILURE },
};

/** What the attempt's recorded response says for a known errno (undefined: describe it generically). */
export function errnoText(errno: string): string | undefined {
  return errnos[errno]?.text;
}

export function classifyStatus(status: number): Classification {
  if (status >= 200 && status < 300) return SUCCESS;
  return statusTable[status] ?? FAILURE;
}

export function classifyError(errno: string): Classification {
  return errnos[errno]?.classification ?? FAILURE;
}
