/**
 * Operational webhooks travel through the ordinary pipeline: an application of Hookyard's own, with
 * one endpoint at the operator's URL. Its uid is reserved: the API hides the application from
 * `GET /app`, lets admins read its messages and attempts, and refuses every write to it.
 */
export const OPERATIONAL_APP_UID = 'hookyard.operational';
export const OPERATIONAL_ENDPOINT_UID = 'hookyard.operational';

export function isOperationalApp(app: { readonly uid: string | null } | undefined): boolean {
  return app?.uid === OPERATIONAL_APP_UID;
}
