/**
 * A delivery's status, as stored (`deliveries.status`, `attempts.status`) and as the Svix API shows it
 * (`MessageStatus`: 0 success, 1 pending, 2 fail, 3 sending, 4 canceled: never to be attempted, since
 * its message's payload was expunged in bulk while it was queued; final like success and fail). The status is one of the columns a
 * delivery's state is read from; the whole state machine is documented once, in
 * storage/sql/delivery-transitions.ts and docs/architecture.md.
 */
export const MessageStatus = { success: 0, pending: 1, fail: 2, sending: 3, canceled: 4 } as const;
export type MessageStatus = (typeof MessageStatus)[keyof typeof MessageStatus];
export const statusText = ['success', 'pending', 'fail', 'sending', 'canceled'] as const;

/** Why an attempt was made: its retry schedule, or a person (resend, replay, recover). */
export const TriggerType = { scheduled: 0, manual: 1 } as const;
export type TriggerType = (typeof TriggerType)[keyof typeof TriggerType];
