import type { EndpointRecord } from '../storage/contract.ts';

/**
 * A destination is where a prepared, signed message goes: an HTTP endpoint today (http-destination.ts),
 * a broker or a database tomorrow. The dispatcher sees only this interface: it hands over the message
 * (payload and the signature headers it computed) and gets back a destination-neutral outcome, which it
 * turns into the delivery's next state and what the attempt says about the endpoint's health.
 *
 * A new kind of destination is one file beside this one implementing `Destination`, plus its entry in
 * `createDestinations` (destinations.ts); the dispatcher does not change.
 */
export interface OutboundMessage {
  readonly msgId: string;
  readonly eventType: string;
  /** The payload exactly as signed. */
  readonly body: string;
  /**
   * The signature headers (`webhook-id`, `webhook-timestamp`, `webhook-signature` and/or their `svix-`
   * twins), the endpoint's own headers and the framing (`content-type`, `user-agent`). A broker sends
   * them as message headers or properties.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The message's trace (its ingest span's traceparent) when tracing recorded one; see tracing/. */
  readonly traceContext?: string | undefined;
}

export interface SendOptions {
  /** Bound on the whole attempt. */
  readonly timeoutMs: number;
  /** Shutdown: the destination gives up at once and answers `aborted`. */
  readonly signal?: AbortSignal | undefined;
}

/** What is kept of the attempt in its record (`AttemptRecord`). */
export interface Recorded {
  /** The receiver's status code where it has one (HTTP); 0 when it gave none. */
  readonly statusCode: number;
  /** The receiver's answer cut to the configured limit, or why there was none. */
  readonly response: string;
  /** The receiver's response headers, where it answered with some (HTTP). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly durationMs: number;
}

/** What the attempt says about the destination's host, for the endpoint policies (delivery-policies.md). */
export interface HostFacts {
  /** The receiver answered (whatever it said): the host is up, an open circuit closes. */
  readonly reached: boolean;
  /** No answer, and the failure says the host is down: counts towards opening the circuit. */
  readonly unreachable: boolean;
  /** The receiver says the endpoint is gone for good: disable it. */
  readonly gone: boolean;
  /** The receiver asked to slow down: pause the endpoint (for `retryAfterMs` when given). */
  readonly slowDown: boolean;
}

export type DestinationOutcome =
  | { readonly kind: 'success'; readonly recorded: Recorded }
  | {
      /** Worth another attempt while the retry schedule has one left. */
      readonly kind: 'retryable';
      readonly recorded: Recorded;
      readonly host: HostFacts;
      /** The receiver's "not before", as a delay from now (clamped by the retry policy). */
      readonly retryAfterMs?: number | undefined;
    }
  | {
      /** No attempt can succeed (e.g. a message the destination refuses for good): the delivery fails now. */
      readonly kind: 'permanent';
      readonly recorded: Recorded;
      readonly host: HostFacts;
    }
  /** The send was cut short by `signal` (shutdown): nothing is recorded, the lease lapses. */
  | { readonly kind: 'aborted' };

export interface Destination {
  send(endpoint: EndpointRecord, message: OutboundMessage, options: SendOptions): Promise<DestinationOutcome>;
  /**
   * A batch of an ordered broker destination: each message sent as its own, in order, and `success`
   * only once the destination confirmed every one (a database may take them in one transaction). Any
   * other outcome means the batch is sent again whole: some of it may have arrived. `options.timeoutMs`
   * bounds the whole batch. Where a destination has no such method, the ordered loop sends the
   * messages one `send` after another.
   */
  sendEach?(
    endpoint: EndpointRecord,
    messages: readonly OutboundMessage[],
    options: SendOptions,
  ): Promise<DestinationOutcome>;
  close(): Promise<void>;
}
