// The taskline API client: the one place that talks HTTP (contract: docs/API.md).
//
// Session model: the access token lives only in this object's memory (never in localStorage or
// sessionStorage, where any injected script could read it). The refresh token is an HttpOnly
// cookie the browser sends to POST /v1/auth/refresh; this code never sees it. Every request is
// `credentials: 'include'` so the cross-origin API can set and receive that cookie. With a
// TabCoordinator (tabs.ts), the tabs of one browser refresh one at a time and share the result.

import type { TabCoordinator } from './tabs';

import type { components, operations } from './api-types';

// Types of the API's bodies, generated from openapi.yaml (`npm run gen:api`): the contract is
// the one source, so a change to it that the SPA does not follow fails the typecheck.
type Schemas = components['schemas'];

export type Priority = Schemas['Priority'];
export const PRIORITIES: readonly Priority[] = ['low', 'medium', 'high'];

export type User = Schemas['User'];
export type Task = Schemas['Task'];
/** Writable task fields (POST body; PATCH takes any subset, `null` clears optional ones). */
export type TaskInput = Schemas['TaskCreate'];
export type TaskPage = Schemas['TaskPage'];
export type Session = Schemas['Session'];
export type Category = Schemas['Category'];
/** Writable category fields (POST body; PATCH takes any subset). */
export type CategoryInput = Schemas['CategoryCreate'];
export type TaskQuery = NonNullable<operations['listTasks']['parameters']['query']>;
type AccessToken = Schemas['AccessToken'];

export type FieldError = NonNullable<Schemas['Problem']['errors']>[number];

/** An RFC 9457 problem (or a stand-in for a network failure, status 0, which has no `type`). */
export type Problem = Pick<Schemas['Problem'], 'title' | 'status'> & Partial<Schemas['Problem']>;

export class ApiError extends Error {
  readonly problem: Problem;
  /** Seconds from `Retry-After` (429), when the API sent one. */
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'ApiError';
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return this.problem.status;
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

type Fetch = typeof fetch;

interface RequestOptions {
  body?: unknown;
  /** The body already serialised, sent byte for byte (a keyed create's retries must repeat it). */
  json?: string;
  /** Sent as `Idempotency-Key` (POST /v1/tasks). */
  idempotencyKey?: string;
  /** The task (or category) version this write is based on; sent as `If-Match: "<version>"`. */
  ifMatch?: number;
  /** Send the access token, and on 401 refresh once and retry. */
  auth?: boolean;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly fetchImpl: Fetch;
  private accessToken: string | null = null;
  /** The last token the API refused: never taken back from another tab. */
  private refused: string | null = null;
  private readonly tabs: TabCoordinator | null;
  /** The one refresh in flight: concurrent 401s all wait on it instead of each rotating. */
  private refreshing: Promise<boolean> | null = null;
  /** Called when a refresh fails: the session is over and the user must log in again. */
  onSessionLost: () => void = () => {};
  /**
   * Waits before each retry of a create whose outcome is unknown (so at most 1 + length
   * attempts): short, since a lost response is usually a blip, and growing, so a struggling
   * API is not hammered. Tests set it to zeros.
   */
  createRetryDelaysMs: readonly number[] = [300, 1000, 2500];

  /**
   * `baseUrl` is the API's origin (`https://api.example.com`), or `/` for the page's own origin
   * (one site: the SPA and the API behind one CloudFront distribution; paths stay relative).
   */
  constructor(
    baseUrl: string,
    fetchImpl: Fetch = (input, init) => fetch(input, init),
    tabs: TabCoordinator | null = null,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = fetchImpl;
    this.tabs = tabs;
  }

  get signedIn(): boolean {
    return this.accessToken !== null;
  }

  // --- auth -------------------------------------------------------------------------------

  register(email: string, password: string, name: string): Promise<User> {
    return this.request<User>('POST', '/v1/auth/register', {
      body: { email, password, name },
      auth: false,
    });
  }

  async login(email: string, password: string): Promise<void> {
    const token = await this.request<AccessToken>('POST', '/v1/auth/login', {
      body: { email, password },
      auth: false,
    });
    this.accessToken = token.access_token;
  }

  /**
   * Trades the refresh cookie for a new access token (and a rotated cookie). Returns false when
   * there is no valid session. Callers at the same time share one request: the cookie is
   * single-use, so two parallel refreshes would make the API see a reused token and revoke the
   * whole session. With a TabCoordinator the same holds across the browser's tabs.
   */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<boolean> {
    try {
      const token = this.tabs
        ? await this.tabs.refresh(() => this.refreshRequest(), this.refused)
        : await this.refreshRequest();
      this.accessToken = token;
      return token !== null;
    } catch (error) {
      this.accessToken = null;
      throw error;
    }
  }

  /** POST /v1/auth/refresh: the new access token, or null when there is no valid session. */
  private async refreshRequest(): Promise<string | null> {
    try {
      const token = await this.request<AccessToken>('POST', '/v1/auth/refresh', {
        auth: false,
      });
      return token.access_token;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        return null;
      }
      throw error;
    }
  }

  /** Ends the session on the server (revokes the refresh family, clears the cookie). */
  async logout(): Promise<void> {
    try {
      await this.request<void>('POST', '/v1/auth/logout', { auth: false });
    } catch (error) {
      // 401: the cookie was already gone or spent, so there is no session left to end.
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    this.accessToken = null;
    this.tabs?.signedOut();
  }

  // --- recovery by email ----------------------------------------------------------------

  /**
   * POST /v1/auth/password-reset: asks for a reset link by email. The API answers 202 whether or
   * not an account has the address (so the answer reveals nothing); 429 carries `Retry-After`.
   */
  async requestPasswordReset(email: string): Promise<void> {
    await this.request<unknown>('POST', '/v1/auth/password-reset', { body: { email }, auth: false });
  }

  /**
   * POST /v1/auth/password-reset/confirm with the token from the emailed link. 204: the new
   * password is set and every session of the account has ended (log in again). An unknown, used
   * or expired token is a 400 (`isInvalidToken`); a weak password a 422 naming `new_password`.
   */
  async confirmPasswordReset(token: string, newPassword: string): Promise<void> {
    await this.request<void>('POST', '/v1/auth/password-reset/confirm', {
      body: { token, new_password: newPassword },
      auth: false,
    });
  }

  /** POST /v1/auth/verify-email with the token from the emailed link (400: `isInvalidToken`). */
  async verifyEmail(token: string): Promise<void> {
    await this.request<void>('POST', '/v1/auth/verify-email', { body: { token }, auth: false });
  }

  /**
   * POST /v1/me/verification-email: sends a new verification link (202). 409 when the address is
   * verified already, 429 (with `Retry-After`) over the budget, 503 when mail cannot be sent.
   */
  async sendVerificationEmail(): Promise<void> {
    await this.request<unknown>('POST', '/v1/me/verification-email');
  }

  me(): Promise<User> {
    return this.request<User>('GET', '/v1/me');
  }

  /** PATCH /v1/me: the new display name; returns the user as stored (name trimmed). */
  updateName(name: string): Promise<User> {
    return this.request<User>('PATCH', '/v1/me', { body: { name } });
  }

  /**
   * POST /v1/me/password. Every other session ends; this one keeps its access token, and the
   * response sets this session's new refresh cookie (the browser stores it). A wrong current
   * password is a 403 (ApiError), not a lost session.
   */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.request<void>('POST', '/v1/me/password', {
      body: { current_password: currentPassword, new_password: newPassword },
    });
  }

  /** GET /v1/sessions: the live sessions, oldest first; `current` marks this one. */
  async listSessions(): Promise<Session[]> {
    return (await this.request<Schemas['SessionList']>('GET', '/v1/sessions')).items;
  }

  /** DELETE /v1/sessions/{id}: ends that session (its refresh cookie and access tokens). */
  async endSession(id: string): Promise<void> {
    await this.request<void>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /** DELETE /v1/sessions: ends every session but this one. */
  async endOtherSessions(): Promise<void> {
    await this.request<void>('DELETE', '/v1/sessions');
  }

  /**
   * DELETE /v1/me, confirmed by the current password (the API asks again before it erases
   * anything: a wrong one is a 403 ApiError). A large account's deletion may be cut short
   * (503 with `Retry-After`): it is resumed by sending the request again, with the password
   * again, up to `deleteRetries` times.
   */
  async deleteAccount(password: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.request<void>('DELETE', '/v1/me', { body: { password } });
        break;
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 503 || attempt >= this.deleteRetries) {
          throw error;
        }
        await sleep((error.retryAfter ?? 1) * 1000);
      }
    }
    this.accessToken = null;
    this.tabs?.signedOut();
  }

  /** How many times a deletion cut short (503) is resumed before its error is shown. */
  deleteRetries = 5;

  // --- tasks ------------------------------------------------------------------------------

  listTasks(query: TaskQuery = {}): Promise<TaskPage> {
    const params = new URLSearchParams();
    if (query.completed !== undefined) params.set('completed', String(query.completed));
    if (query.priority) params.set('priority', query.priority);
    if (query.q) params.set('q', query.q);
    if (query.category) params.set('category', query.category);
    if (query.due_before) params.set('due_before', query.due_before);
    if (query.due_after) params.set('due_after', query.due_after);
    if (query.overdue !== undefined) params.set('overdue', String(query.overdue));
    if (query.sort) params.set('sort', query.sort);
    if (query.order) params.set('order', query.order);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    const search = params.toString();
    return this.request<TaskPage>('GET', `/v1/tasks${search ? `?${search}` : ''}`);
  }

  /**
   * POST /v1/tasks with an `Idempotency-Key`: one key per create action (pass the same `key`
   * again only to repeat that action with the same input). A failure that leaves it unknown
   * whether the task was created (no response, 5xx) or a 409 (the same key still in flight) is
   * retried a few times with the same key and the same body bytes: the API then answers the
   * first create again instead of making a second task (it fingerprints the raw body, so the
   * body is serialised once, never per attempt).
   */
  async createTask(input: TaskInput, key: string = newIdempotencyKey()): Promise<Task> {
    const options: RequestOptions = { json: JSON.stringify(input), idempotencyKey: key };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request<Task>('POST', '/v1/tasks', options);
      } catch (error) {
        const delay = this.createRetryDelaysMs[attempt];
        if (delay === undefined || !retriable(error)) throw error;
        await sleep(delay);
      }
    }
  }

  /** JSON merge patch of `task`, only if it is still at `task.version` (else 412). */
  updateTask(task: Pick<Task, 'id' | 'version'>, patch: Partial<TaskInput>): Promise<Task> {
    return this.request<Task>('PATCH', `/v1/tasks/${encodeURIComponent(task.id)}`, {
      body: patch,
      ifMatch: task.version,
    });
  }

  async deleteTask(task: Pick<Task, 'id' | 'version'>): Promise<void> {
    await this.request<void>('DELETE', `/v1/tasks/${encodeURIComponent(task.id)}`, {
      ifMatch: task.version,
    });
  }

  // --- categories ---------------------------------------------------------------------------

  /** GET /v1/categories: every category of the user, by name. */
  async listCategories(): Promise<Category[]> {
    return (await this.request<Schemas['CategoryList']>('GET', '/v1/categories')).items;
  }

  createCategory(input: CategoryInput): Promise<Category> {
    return this.request<Category>('POST', '/v1/categories', { body: input });
  }

  /** JSON merge patch of `category`, only if it is still at `category.version` (else 412). */
  updateCategory(
    category: Pick<Category, 'id' | 'version'>,
    patch: Partial<CategoryInput>,
  ): Promise<Category> {
    return this.request<Category>('PATCH', `/v1/categories/${encodeURIComponent(category.id)}`, {
      body: patch,
      ifMatch: category.version,
    });
  }

  /** DELETE /v1/categories/{id}: its tasks become uncategorised. */
  async deleteCategory(category: Pick<Category, 'id' | 'version'>): Promise<void> {
    await this.request<void>('DELETE', `/v1/categories/${encodeURIComponent(category.id)}`, {
      ifMatch: category.version,
    });
  }

  // --- transport ----------------------------------------------------------------------------

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    // At most one refresh per request: a token fresh from a refresh that is refused anyway
    // means the session is gone, not that another refresh would help.
    let refreshed = false;
    if (auth && this.accessToken === null) {
      // Page load, or after a failed request cleared the token: try the cookie first.
      if (!(await this.refresh())) throw this.sessionLost();
      refreshed = true;
    }
    const sentWith = this.accessToken;
    let response = await this.send(method, path, options, auth ? sentWith : null);
    if (response.status === 401 && auth) {
      this.refused = sentWith;
      // Another request may already have refreshed while this one was in flight: then retry
      // with its token; otherwise refresh (shared with any concurrent 401) and retry once.
      const renewed = this.accessToken !== sentWith && this.accessToken !== null;
      if (!renewed && (refreshed || !(await this.refresh()))) {
        this.accessToken = null;
        throw this.sessionLost();
      }
      response = await this.send(method, path, options, this.accessToken);
      if (response.status === 401) {
        this.refused = this.accessToken;
        this.accessToken = null;
        throw this.sessionLost();
      }
    }
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private sessionLost(): ApiError {
    this.onSessionLost();
    return new ApiError({
      title: 'Not signed in',
      status: 401,
      detail: 'Your session has ended. Please log in again.',
    });
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const body = options.json ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== null) headers['Authorization'] = `Bearer ${token}`;
    if (options.ifMatch !== undefined) headers['If-Match'] = `"${options.ifMatch}"`;
    if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body,
        credentials: 'include',
        cache: 'no-store',
      });
    } catch {
      // fetch rejects only when no response could be read: offline, or blocked by CORS.
      throw new ApiError({
        title: 'Cannot reach the server',
        status: 0,
        detail: `No response from ${this.baseUrl || 'the server'}. Check your connection and try again.`,
      });
    }
  }
}

/**
 * Whether an error is the API's answer to an emailed link that no longer works: 400, problem
 * type `invalid-token` (unknown, used or expired). The SPA sends only well-formed bodies to the
 * token endpoints, so every 400 they answer means that.
 */
export function isInvalidToken(error: unknown): boolean {
  return error instanceof ApiError && error.status === 400;
}

/**
 * A fresh `Idempotency-Key`: a random UUID. `crypto.randomUUID` exists only in secure contexts
 * (https, localhost); elsewhere (a dev server on a LAN address) one is built from
 * `getRandomValues`, which every browser has.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether a keyed create may be repeated: no response (status 0: the request may or may not have
 * arrived), a server error, or 409 (its key still in flight; a 409 for the task quota just comes
 * back again). Anything else is an answer about this body that a repeat would not change.
 */
function retriable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.status === 0 || error.status === 409 || error.status >= 500;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a problem+json body; falls back to the status line for anything else. */
export async function problemOf(response: Response): Promise<ApiError> {
  let problem: Problem = { title: response.statusText || 'Request failed', status: response.status };
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await response.json()) as Partial<Problem>;
      problem = {
        ...body,
        title: typeof body.title === 'string' ? body.title : problem.title,
        status: typeof body.status === 'number' ? body.status : response.status,
        errors: Array.isArray(body.errors) ? body.errors : undefined,
      };
    } catch {
      // Not valid JSON after all: keep the status line.
    }
  }
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  return new ApiError(problem, Number.isFinite(retryAfter) ? retryAfter : null);
}
