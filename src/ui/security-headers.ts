import { randomBytes } from 'node:crypto';

/**
 * The headers every dashboard response carries. Scripts run only with this response's nonce
 * (`strict-dynamic` lets the nonced entry load its own chunks), no inline handlers or `eval`, styles
 * from our own origin only (the components use classes, never style attributes), no plugins, no
 * framing by anyone. The referrer goes to our own origin only (`same-origin`: with `no-referrer`
 * Chromium sends `Origin: null` on form posts, which the sign-in's origin check must refuse). In development Vite injects `<style>` elements for CSS hot reload and connects a
 * WebSocket, so `dev` allows inline styles and that connection; nothing else is relaxed.
 */
export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

export function uiSecurityHeaders(nonce: string, options: { dev?: boolean } = {}): Record<string, string> {
  const csp = [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    `style-src 'self'${options.dev ? " 'unsafe-inline'" : ''}`,
    "img-src 'self' data:",
    `connect-src 'self'${options.dev ? ' ws: wss:' : ''}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

/**
 * The App Portal's headers: the dashboard's, except that it may be framed by `frameAncestors` (any
 * site by default: the portal is made to be embedded), its theme arrives in a style element carrying
 * the nonce, and the platform's logo (`icon`) may come from any https address. No X-Frame-Options
 * (it cannot express a list); no referrer at all leaves the portal.
 */
export function portalSecurityHeaders(
  nonce: string,
  options: { dev?: boolean; frameAncestors: readonly string[] },
): Record<string, string> {
  const ancestors = options.frameAncestors.length === 0 ? "'none'" : options.frameAncestors.join(' ');
  const csp = [
    "default-src 'self'",
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    `style-src 'self' 'nonce-${nonce}'${options.dev ? " 'unsafe-inline'" : ''}`,
    "img-src 'self' data: https:",
    `connect-src 'self'${options.dev ? ' ws: wss:' : ''}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors}`,
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}
