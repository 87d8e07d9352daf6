/**
 * HTTP transport for the REST API. Runtime-neutral: `fetch` is injected (or taken from globalThis at
 * construction), no Node or DOM globals.
 *
 * - Every response body is parsed with a zod schema from @parley/shared/protocol; error bodies become
 *   `ClientError` with the catalogue code, HTTP status and Retry-After.
 * - The refresh token is an HttpOnly cookie. Browsers keep it in their cookie jar (`credentials`); in
 *   Node there is no jar, so the transport keeps one itself: it reads `Set-Cookie` through
 *   `headers.getSetCookie()` and sends `Cookie` back to matching paths on the same origin. (In a browser
 *   `getSetCookie()` never exposes the cookie and a `Cookie` header is dropped, so both paths coexist.)
 * - The access token lives in memory only. It is refreshed single-flight shortly before expiry, and once
 *   more on a 401; concurrent callers share one refresh.
 * - It sends `Origin` (the API's own origin) because the server checks it on state-changing requests;
 *   browsers set it themselves and ignore ours.
 */
import { z } from 'zod';
import { ErrorBody, type ErrorCode } from '../protocol/errors.ts';
import { RefreshResponse } from '../protocol/auth.ts';
import { ClientError } from './errors.ts';

/** The fetch function shape the transport needs (the standard one fits). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Paths of the account API, in one place. */
export const AUTH_ROUTES = {
  prelogin: '/api/auth/prelogin',
  register: '/api/auth/register',
  login: '/api/auth/login',
  refresh: '/api/auth/refresh',
  logout: '/api/auth/logout',
  me: '/api/auth/me',
  password: '/api/auth/password',
  recoveryStart: '/api/auth/recovery/start',
  recoveryComplete: '/api/auth/recovery/complete',
  recoveryKey: '/api/auth/recovery-key',
  sessions: '/api/auth/sessions',
} as const;

/** Options for `HttpTransport`. */
export interface TransportOptions {
  /** Base URL of the server, e.g. `https://chat.example` (a path prefix is kept). */
  baseUrl: string;
  /** fetch to use; defaults to `globalThis.fetch` (bound) at construction. */
  fetch?: FetchLike;
  /** Browser cookie mode; `same-origin` (default) when the app is served by the API server. */
  credentials?: RequestCredentials;
  /** Refresh this many ms before the access token expires (default 30 s). */
  refreshMarginMs?: number;
  /** Clock, injectable for tests (default `Date.now`). */
  now?: () => number;
}

interface StoredCookie {
  value: string;
  path: string;
  expiresAt: number;
}

/** Minimal cookie jar for Node: name -> value by path, for one origin. Not a general cookie engine. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  /** Stores the cookies of `Set-Cookie` lines (deletes on Max-Age <= 0, past Expires or empty value). */
  store(setCookieLines: readonly string[], now: number): void {
    for (const line of setCookieLines) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expiresAt = Number.POSITIVE_INFINITY;
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age' && /^-?\d+$/.test(v)) expiresAt = now + Number(v) * 1000;
        else if (key === 'expires' && expiresAt === Number.POSITIVE_INFINITY) {
          const t = Date.parse(v);
          if (!Number.isNaN(t)) expiresAt = t;
        }
      }
      if (value === '' || expiresAt <= now) this.#cookies.delete(name);
      else this.#cookies.set(name, { value, path, expiresAt });
    }
  }

  /** The `Cookie` header value for a request to `path`, or null when no cookie applies. */
  header(path: string, now: number): string | null {
    const parts: string[] = [];
    for (const [name, c] of this.#cookies) {
      if (c.expiresAt <= now) {
        this.#cookies.delete(name);
        continue;
      }
      if (path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) parts.push(`${name}=${c.value}`);
    }
    return parts.length > 0 ? parts.join('; ') : null;
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#cookies.clear();
  }
}

/** An access token and when it expires (unix ms). */
export interface AccessToken {
  token: string;
  expiresAt: number;
}

/** Per-request options. */
export interface RequestOptions {
  /** Send the access token (refreshing it when needed). Default false. */
  auth?: boolean;
  /** JSON body (encoded here). */
  body?: unknown;
  /** Cancels the request; the promise then rejects with `signal.reason` (not a ClientError). */
  signal?: AbortSignal;
}

/** Per-request options of `requestBytes` (raw bodies, streamed responses). */
export interface BytesRequestOptions {
  /** Send the access token (refreshing it when needed). Default false. */
  auth?: boolean;
  /** Raw request body, sent as `contentType` (default `application/octet-stream`). */
  body?: Uint8Array;
  contentType?: string;
  /** Cancels the request (and the body stream); rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Asks for the response body from this byte on (`Range: bytes=<n>-`); the answer may still be whole (200). */
  rangeFrom?: number;
}

function retryAfterSeconds(res: Response): number | undefined {
  const h = res.headers.get('retry-after');
  if (h === null) return undefined;
  if (/^\d+$/.test(h)) return Number(h);
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/** Status-derived catalogue code for an error response without a valid body. */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  return 'invalid_request';
}

/** HTTP transport with schema-checked responses, a Node cookie jar and single-flight token refresh. */
export class HttpTransport {
  readonly #base: URL;
  readonly #fetch: FetchLike;
  readonly #credentials: RequestCredentials;
  readonly #margin: number;
  readonly #now: () => number;
  readonly #jar = new CookieJar();
  #access: AccessToken | null = null;
  #refreshing: Promise<AccessToken> | null = null;
  readonly #ended = new Set<() => void>();

  /** Throws `ClientError('invalid_input')` for a base URL that is not http(s) or when no fetch exists. */
  constructor(options: TransportOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (cause) {
      throw new ClientError('invalid_input', 'baseUrl is not a URL', { cause });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ClientError('invalid_input', 'baseUrl must be http(s)');
    this.#base = base;
    const f = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
    if (!f) throw new ClientError('invalid_input', 'no fetch available: pass one in options.fetch');
    this.#fetch = f;
    this.#credentials = options.credentials ?? 'same-origin';
    this.#margin = options.refreshMarginMs ?? 30_000;
    this.#now = options.now ?? (() => Date.now());
  }

  /** The current access token (in memory), if any. */
  get accessToken(): AccessToken | null {
    return this.#access;
  }

  /** Sets (or clears) the access token after login/register/recovery. */
  setAccessToken(token: AccessToken | null): void {
    this.#access = token;
  }

  /**
   * Calls `listener` each time a refresh finds the session over (the refresh token was revoked or expired:
   * signed out from another device, a password change or a recovery elsewhere). Returns the unsubscribe.
   */
  onSessionEnded(listener: () => void): () => void {
    this.#ended.add(listener);
    return () => this.#ended.delete(listener);
  }

  /** Forgets the access token and every cookie (local sign-out). */
  reset(): void {
    this.#access = null;
    this.#refreshing = null;
    this.#jar.clear();
  }

  /**
   * A valid access token, refreshed (single-flight) when missing or about to expire. Throws
   * `ClientError('not_signed_in')` when the refresh token is missing, expired or revoked.
   */
  async freshAccessToken(): Promise<string> {
    const current = this.#access;
    if (current && current.expiresAt - this.#margin > this.#now()) return current.token;
    return (await this.refresh()).token;
  }

  /** Refreshes the access token with the refresh cookie; concurrent calls share one request. */
  refresh(): Promise<AccessToken> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #doRefresh(): Promise<AccessToken> {
    try {
      const r = await this.#send(RefreshResponse, 'POST', AUTH_ROUTES.refresh, { body: {} }, null);
      const token = { token: r.accessToken, expiresAt: r.accessTokenExpiresAt };
      this.#access = token;
      return token;
    } catch (cause) {
      if (cause instanceof ClientError && (cause.status === 401 || cause.status === 403)) {
        this.#access = null;
        for (const l of [...this.#ended]) l();
        throw new ClientError('not_signed_in', 'the session has ended; sign in again', { cause, status: cause.status });
      }
      throw cause;
    }
  }

  /**
   * Sends a request and parses the success body with `schema`. With `auth`, attaches a fresh access
   * token and retries once after a refresh on 401. Throws `ClientError` with the server's catalogue code
   * for an error response, `'bad_response'` for a body that fails its schema, `'network'` when fetch fails.
   */
  async request<S extends z.ZodType>(schema: S, method: string, path: string, options: RequestOptions = {}): Promise<z.infer<S>> {
    if (!options.auth) return this.#send(schema, method, path, options, null);
    const token = await this.freshAccessToken();
    try {
      return await this.#send(schema, method, path, options, token);
    } catch (e) {
      if (!(e instanceof ClientError) || e.status !== 401) throw e;
      const again = await this.refresh();
      return this.#send(schema, method, path, options, again.token);
    }
  }

  /**
   * Sends a request with a raw-bytes body (or none) and returns the successful `Response` with its body
   * UNREAD, so the caller can stream it (`res.body`). Same auth, refresh-once-on-401, cookie and error
   * handling as `request`: an error status becomes `ClientError` with the catalogue code, a failed fetch
   * `ClientError('network')`, an abort rejects with `signal.reason`.
   */
  async requestBytes(method: string, path: string, options: BytesRequestOptions = {}): Promise<Response> {
    if (!options.auth) return this.#sendBytes(method, path, options, null);
    const token = await this.freshAccessToken();
    try {
      return await this.#sendBytes(method, path, options, token);
    } catch (e) {
      if (!(e instanceof ClientError) || e.status !== 401) throw e;
      const again = await this.refresh();
      return this.#sendBytes(method, path, options, again.token);
    }
  }

  async #sendBytes(method: string, path: string, options: BytesRequestOptions, token: string | null): Promise<Response> {
    const url = new URL(this.#base.pathname.replace(/\/$/, '') + path, this.#base);
    const headers: Record<string, string> = { accept: 'application/octet-stream, application/json', origin: this.#base.origin };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/octet-stream';
    if (options.rangeFrom !== undefined) headers.range = `bytes=${options.rangeFrom}-`;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const cookie = this.#jar.header(url.pathname, this.#now());
    if (cookie !== null) headers.cookie = cookie;
    // fetch wants an ArrayBuffer-backed view; copy only when the caller's is not.
    const body = options.body === undefined ? undefined : options.body.buffer instanceof ArrayBuffer ? new Uint8Array(options.body.buffer, options.body.byteOffset, options.body.byteLength) : new Uint8Array(options.body);
    let res: Response;
    try {
      res = await this.#fetch(url.href, {
        method,
        headers,
        credentials: this.#credentials,
        redirect: 'error',
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ClientError('network', `cannot reach the server (${method} ${path})`, { cause });
    }
    const setCookies = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    if (setCookies.length > 0) this.#jar.store(setCookies, this.#now());
    if (res.ok) return res;
    const text = await res.text().catch((cause: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ClientError('network', 'connection lost while reading the response', { cause });
    });
    throw this.#errorFrom(res, text, method, path);
  }

  async #send<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<z.infer<S>> {
    const url = new URL(this.#base.pathname.replace(/\/$/, '') + path, this.#base);
    const headers: Record<string, string> = { accept: 'application/json', origin: this.#base.origin };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const cookie = this.#jar.header(url.pathname, this.#now());
    if (cookie !== null) headers.cookie = cookie;
    let res: Response;
    try {
      res = await this.#fetch(url.href, {
        method,
        headers,
        credentials: this.#credentials,
        redirect: 'error',
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ClientError('network', `cannot reach the server (${method} ${path})`, { cause });
    }
    const setCookies = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    if (setCookies.length > 0) this.#jar.store(setCookies, this.#now());
    const text = await res.text().catch((cause: unknown) => {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ClientError('network', 'connection lost while reading the response', { cause });
    });
    if (!res.ok) throw this.#errorFrom(res, text, method, path);
    let json: unknown = undefined;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw new ClientError('bad_response', `${method} ${path}: response is not JSON`, { cause, status: res.status });
      }
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new ClientError('bad_response', `${method} ${path}: response does not match the protocol`, {
        cause: parsed.error,
        status: res.status,
      });
    return parsed.data;
  }

  #errorFrom(res: Response, text: string, method: string, path: string): ClientError {
    const retryAfter = retryAfterSeconds(res);
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null; // not JSON: fall back to the status below
    }
    const parsed = ErrorBody.safeParse(body);
    const code = parsed.success ? parsed.data.error.code : codeForStatus(res.status);
    const message = parsed.success ? parsed.data.error.message : `${method} ${path} failed with HTTP ${res.status}`;
    return new ClientError(code, message, { status: res.status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }
}

/** Schema for endpoints that answer 204 / an empty or ignorable body. */
export const NoContent = z.unknown().transform(() => undefined);
