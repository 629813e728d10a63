/**
 * Operational events: what Hookyard tells the operator about itself, in the shapes Svix uses for its
 * operational webhooks (`EndpointCreatedEvent`, `MessageAttemptFailingEvent`, ...). Producers (the
 * API for endpoint changes, the delivery policies for failures) emit them through an
 * `OperationalSink`; the sink delivers them, signed, to `HOOKYARD_OPERATIONAL_WEBHOOK_URL`.
 */

export interface EndpointRef {
  appId: string;
  appUid?: string | undefined;
  endpointId: string;
  endpointUid?: string | undefined;
}

/** `MessageAttempetLast` (sic, Svix's schema name). */
export interface LastAttempt {
  id: string;
  responseStatusCode: number;
  /** ISO 8601. */
  timestamp: string;
}

export interface MessageAttemptRef {
  appId: string;
  appUid?: string | undefined;
  endpointId: string;
  msgId: string;
  msgEventId?: string | undefined;
  lastAttempt: LastAttempt;
}

export type OperationalEvent =
  | { type: 'endpoint.created'; data: EndpointRef }
  | { type: 'endpoint.updated'; data: EndpointRef }
  | { type: 'endpoint.deleted'; data: EndpointRef }
  /** `failSince`: ISO 8601 time of the first failure in the run that disabled it. */
  | { type: 'endpoint.disabled'; data: EndpointRef & { failSince: string } }
  /** A message has failed `FAILING_AFTER_ATTEMPTS` consecutive attempts at an endpoint. */
  | { type: 'message.attempt.failing'; data: MessageAttemptRef }
  /** The last scheduled attempt failed: the delivery is now `fail`. */
  | { type: 'message.attempt.exhausted'; data: MessageAttemptRef }
  /** A delivery that had been reported failing succeeded. */
  | { type: 'message.attempt.recovered'; data: MessageAttemptRef };

export type OperationalEventType = OperationalEvent['type'];

/** Svix sends `message.attempt.failing` after the 4th consecutive failed attempt. */
export const FAILING_AFTER_ATTEMPTS = 4;

export interface OperationalSink {
  /** Durably queues the event for delivery; resolves once stored (never throws for delivery problems). */
  emit(event: OperationalEvent): Promise<void>;
}

/** The sink used when no operational webhook URL is configured. */
export const discardOperationalEvents: OperationalSink = { emit: async () => {} };
