/** A tiny JSON HTTP client for tests (what curl does, with the status kept). */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Send a request; JSON bodies are encoded, JSON answers decoded. */
export async function http<T = any>(method: string, url: string, opts: { body?: unknown; token?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<Answer<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** The native API as the test stacks' admin (`admin` / `admin-password-1`): `api` answers as `http` does, `apiOk` throws on a status of 300 or more. */
export async function adminApi(registryUrl: string): Promise<{
  token: string;
  api: <T = any>(method: string, path: string, body?: unknown) => Promise<Answer<T>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  apiOk: <T = any>(method: string, path: string, body?: unknown) => Promise<Answer<T>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}> {
  const token = (await http<{ accessToken: string }>('POST', `${registryUrl}/api/v1/auth/login`, { body: { username: 'admin', password: 'admin-password-1' } })).body.accessToken;
  const api = <T>(method: string, path: string, body?: unknown) => http<T>(method, `${registryUrl}/api/v1${path}`, { token, body });
  const apiOk = async <T>(method: string, path: string, body?: unknown) => {
    const r = await api<T>(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r;
  };
  return { token, api, apiOk };
}
