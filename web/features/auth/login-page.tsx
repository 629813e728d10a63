/**
 * Sign-in: a plain form posted to /ui/login (works without JavaScript). The token goes to the server
 * once, is compared with the stored hash, and is never kept by the browser: the session cookie the
 * server sets is HttpOnly and opaque.
 */
export function LoginPage({ error, next }: { error: string | null; next: string | null }) {
  return (
    <main id="main" className="login">
      <title>Sign in · Hookyard</title>
      <h1>Hookyard</h1>
      <form method="post" action="/ui/login" className="card login-form">
        <h2>Sign in</h2>
        {error ? (
          <p className="form-error" role="alert" id="login-error">
            {error}
          </p>
        ) : null}
        <label htmlFor="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          required
          aria-describedby={error ? 'login-error token-help' : 'token-help'}
        />
        <p id="token-help" className="muted">
          Printed once at first start, or the value of HOOKYARD_ADMIN_TOKEN.
        </p>
        {next ? <input type="hidden" name="next" value={next} /> : null}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
