import type { ApiTransport } from '../../src/ui/render-contract.ts';

/**
 * The one API client of the dashboard. It speaks /api/v1 and nothing else; only the transport differs:
 * on the server an in-process call with the visitor's cookie (src/ui/ui-routes.ts), in the browser
 * `fetch` with the same cookie plus the page's CSRF token on every change.
 */
export type { ApiTransport };

/** A refused or failed call, with the API's stable code and the message it gave. Serialisable (SSR). */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
  }
  toJSON() {
    return { name: this.name, status: this.status, code: this.code, message: this.message };
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
}

function messageOf(body: unknown, status: number): { code: string; message: string } {
  if (body && typeof body === 'object') {
    const { code, detail } = body as { code?: unknown; detail?: unknown };
    if (typeof detail === 'string') return { code: String(code ?? status), message: detail };
    if (Array.isArray(detail)) {
      const items = detail as Array<{ loc?: unknown[]; msg?: string }>;
      const text = items
        .map((item) => `${(item.loc ?? []).slice(1).join('.')}: ${item.msg ?? ''}`)
        .join('; ');
      return { code: String(code ?? 'validation'), message: text };
    }
  }
  return { code: String(status), message: `The server answered ${status}.` };
}

export function createApi(transport: ApiTransport): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await transport({ method, path, ...(body === undefined ? {} : { body }) });
    if (response.status >= 400) {
      const { code, message } = messageOf(response.body, response.status);
      throw new ApiFailure(response.status, code, message);
    }
    return response.body as T;
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body ?? {}),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    delete: async (path) => {
      await call('DELETE', path);
    },
  };
}

/** The browser's transport: same-origin fetch, cookie sent by the browser, CSRF token on changes. */
export function browserTransport(csrfToken: string): ApiTransport {
  return async ({ method, path, body }) => {
    let response: Response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method,
        credentials: 'same-origin',
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(method === 'GET' ? {} : { 'x-csrf-token': csrfToken }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiFailure(0, 'network', 'Hookyard did not answer; check that the server is running.');
    }
    if (response.status === 401 && typeof window !== 'undefined') {
      window.location.assign(
        `/ui/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`,
      );
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return { status: response.status, body: parsed };
  };
}

/** Query-string from an object, skipping empty values; arrays become repeated keys. */
export function qs(
  params: Record<string, string | number | boolean | readonly string[] | null | undefined>,
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, item);
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
