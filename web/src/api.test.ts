// Unit tests of the API client's session logic over a scripted fetch (no network). The same
// behaviour is exercised against the real API in a real browser by e2e/.

import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, isInvalidToken } from './api';

const BASE = 'http://api.test';

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  credentials: RequestCredentials | undefined;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? 'application/problem+json' : 'application/json';
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, ...headers } });
}

const unauthorized = () => json(401, { title: 'Unauthorized', status: 401 });

/** A fake API: `route` answers each call; every call is recorded. */
function fakeApi(route: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const call: Call = {
      method: init.method ?? 'GET',
      path: String(input).slice(BASE.length),
      headers: { ...(init.headers as Record<string, string>) },
      body: init.body as string | undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    return route(call);
  };
  const api = new ApiClient(BASE, fetchImpl as typeof fetch);
  let lost = 0;
  api.onSessionLost = () => {
    lost += 1;
  };
  return { api, calls, sessionsLost: () => lost };
}

const refreshes = (calls: Call[]) => calls.filter((c) => c.path === '/v1/auth/refresh').length;
const user = { id: 'u1', email: 'a@example.com', name: 'A', created_at: '2026-01-01T00:00:00Z' };
const page = { items: [], next_cursor: null, counts: { total: 0, completed: 0 } };

/** The API as it behaves when access token `valid` is current and refresh issues `next`. */
function tokenApi(state: { valid: string; next: string[] }, delayRefreshMs = 0) {
  return fakeApi(async (call) => {
    if (call.path === '/v1/auth/login') return json(200, { access_token: 'A', token_type: 'Bearer', expires_in: 900 });
    if (call.path === '/v1/auth/refresh') {
      await new Promise((resolve) => setTimeout(resolve, delayRefreshMs));
      const next = state.next.shift();
      if (!next) return unauthorized();
      state.valid = next;
      return json(200, { access_token: next, token_type: 'Bearer', expires_in: 900 });
    }
    if (call.headers['Authorization'] !== `Bearer ${state.valid}`) return unauthorized();
    if (call.path === '/v1/me') return json(200, user);
    if (call.path.startsWith('/v1/tasks')) return json(200, page);
    return json(404, { title: 'Not Found', status: 404 });
  });
}

describe('ApiClient session', () => {
  it('restores a session on page load by calling refresh before the first request', async () => {
    const { api, calls } = tokenApi({ valid: 'none', next: ['B'] });
    expect(await api.refresh()).toBe(true);
    await expect(api.me()).resolves.toEqual(user);
    expect(calls.map((c) => c.path)).toEqual(['/v1/auth/refresh', '/v1/me']);
    expect(calls[0].credentials).toBe('include');
    expect(calls[1].headers['Authorization']).toBe('Bearer B');
  });

  it('on a 401 refreshes once and retries with the new token', async () => {
    const state = { valid: 'A', next: ['B'] };
    const { api, calls } = tokenApi(state);
    await api.login('a@example.com', 'password1');
    state.valid = 'expired'; // the access token expires
    state.next = ['B'];
    await expect(api.me()).resolves.toEqual(user);
    expect(calls.map((c) => `${c.path} ${c.headers['Authorization'] ?? ''}`.trim())).toEqual([
      '/v1/auth/login',
      '/v1/me Bearer A',
      '/v1/auth/refresh',
      '/v1/me Bearer B',
    ]);
  });

  it('concurrent 401s share a single refresh', async () => {
    const state = { valid: 'A', next: [] as string[] };
    const { api, calls } = tokenApi(state, 20);
    await api.login('a@example.com', 'password1');
    state.valid = 'expired';
    state.next = ['B', 'C'];
    const results = await Promise.all([api.me(), api.listTasks(), api.listTasks({ q: 'x' }), api.me()]);
    expect(results).toHaveLength(4);
    expect(refreshes(calls)).toBe(1);
    const retried = calls.filter((c) => c.headers['Authorization'] === 'Bearer B');
    expect(retried).toHaveLength(4);
  });

  it('a 401 arriving after another request already refreshed retries without refreshing again', async () => {
    const state = { valid: 'A', next: [] as string[] };
    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
    const { api, calls } = fakeApi(async (call) => {
      if (call.path === '/v1/auth/login') return json(200, { access_token: 'A' });
      if (call.path === '/v1/auth/refresh') {
        state.valid = state.next.shift() ?? 'none';
        return json(200, { access_token: state.valid });
      }
      if (call.path === '/v1/tasks' && call.headers['Authorization'] === 'Bearer A') await slowGate;
      if (call.headers['Authorization'] !== `Bearer ${state.valid}`) return unauthorized();
      return json(200, call.path === '/v1/me' ? user : page);
    });
    await api.login('a@example.com', 'password1');
    state.valid = 'expired';
    state.next = ['B', 'C'];
    const slow = api.listTasks(); // sent with A, answered only after the refresh below is done
    await api.me(); // 401 -> refresh -> B
    releaseSlow();
    await slow;
    expect(refreshes(calls)).toBe(1);
    expect(calls.at(-1)?.headers['Authorization']).toBe('Bearer B');
  });

  it('when refresh fails the session is lost: one refresh, no retry loop', async () => {
    const state = { valid: 'A', next: [] as string[] };
    const { api, calls, sessionsLost } = tokenApi(state);
    await api.login('a@example.com', 'password1');
    state.valid = 'expired';
    const error = await api.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(refreshes(calls)).toBe(1);
    expect(sessionsLost()).toBe(1);
    expect(api.signedIn).toBe(false);
  });

  it('a request refreshes at most once: a fresh token refused again ends the session', async () => {
    // No token yet: refresh first; the new token is refused -> no second refresh.
    const first = fakeApi((call) =>
      call.path === '/v1/auth/refresh' ? json(200, { access_token: 'B' }) : unauthorized(),
    );
    await expect(first.api.me()).rejects.toBeInstanceOf(ApiError);
    expect(refreshes(first.calls)).toBe(1);
    expect(first.calls.filter((c) => c.path === '/v1/me')).toHaveLength(1);
    expect(first.sessionsLost()).toBe(1);

    // Signed in: 401 -> refresh -> retry refused again -> no loop.
    const second = fakeApi((call) =>
      call.path === '/v1/auth/login' || call.path === '/v1/auth/refresh'
        ? json(200, { access_token: call.path === '/v1/auth/login' ? 'A' : 'B' })
        : unauthorized(),
    );
    await second.api.login('a@example.com', 'password1');
    await expect(second.api.me()).rejects.toBeInstanceOf(ApiError);
    expect(refreshes(second.calls)).toBe(1);
    expect(second.calls.filter((c) => c.path === '/v1/me')).toHaveLength(2);
    expect(second.sessionsLost()).toBe(1);
    expect(second.api.signedIn).toBe(false);
  });

  it('logout forgets the token even when the cookie was already spent (401)', async () => {
    const { api } = fakeApi((call) =>
      call.path === '/v1/auth/login' ? json(200, { access_token: 'A' }) : unauthorized(),
    );
    await api.login('a@example.com', 'password1');
    expect(api.signedIn).toBe(true);
    await api.logout();
    expect(api.signedIn).toBe(false);
  });
});

describe('ApiClient requests', () => {
  it('sends JSON, credentials and If-Match with the quoted version', async () => {
    const { api, calls } = fakeApi((call) =>
      call.path === '/v1/auth/refresh'
        ? json(200, { access_token: 'T' })
        : call.method === 'DELETE'
          ? new Response(null, { status: 204 })
          : json(200, { id: 't1', version: 4 }),
    );
    await api.updateTask({ id: 't1', version: 3 }, { title: 'New', description: null });
    await api.deleteTask({ id: 't1', version: 4 });
    const [, patch, del] = calls;
    expect(patch).toMatchObject({ method: 'PATCH', path: '/v1/tasks/t1', credentials: 'include' });
    expect(patch.headers).toEqual({ 'Content-Type': 'application/json', Authorization: 'Bearer T', 'If-Match': '"3"' });
    expect(JSON.parse(patch.body!)).toEqual({ title: 'New', description: null });
    expect(del.headers['If-Match']).toBe('"4"');
    expect(del.body).toBeUndefined();
  });

  it('builds list queries from filters, search and cursor', async () => {
    const { api, calls } = fakeApi((call) =>
      call.path === '/v1/auth/refresh' ? json(200, { access_token: 'T' }) : json(200, page),
    );
    await api.listTasks({ completed: false, priority: 'high', q: 'milk & eggs', limit: 10, cursor: 'c/1' });
    await api.listTasks();
    expect(calls[1].path).toBe('/v1/tasks?completed=false&priority=high&q=milk+%26+eggs&limit=10&cursor=c%2F1');
    expect(calls[2].path).toBe('/v1/tasks');
    await api.listTasks({ category: 'none' });
    expect(calls[3].path).toBe('/v1/tasks?category=none');
  });

  it('sends sorts and due-date filters (an offset\'s + as %2B)', async () => {
    const { api, calls } = fakeApi((call) =>
      call.path === '/v1/auth/refresh' ? json(200, { access_token: 'T' }) : json(200, page),
    );
    await api.listTasks({ sort: 'due', order: 'asc', overdue: true, limit: 10 });
    await api.listTasks({ due_before: '2026-12-31T17:00:00+01:00', due_after: '2026-01-01T00:00:00Z', overdue: false, sort: 'priority' });
    expect(calls[1].path).toBe('/v1/tasks?overdue=true&sort=due&order=asc&limit=10');
    expect(calls[2].path).toBe(
      '/v1/tasks?due_before=2026-12-31T17%3A00%3A00%2B01%3A00&due_after=2026-01-01T00%3A00%3A00Z&overdue=false&sort=priority',
    );
  });

  it('sends category writes with If-Match to their routes', async () => {
    const category = { id: 'c1', name: 'Work', color: '#3B82F6', task_count: 0, created_at: 't', updated_at: 't', version: 2 };
    const { api, calls } = fakeApi((call) => {
      if (call.path === '/v1/auth/refresh') return json(200, { access_token: 'T' });
      if (call.method === 'DELETE') return new Response(null, { status: 204 });
      if (call.path === '/v1/categories' && call.method === 'GET') return json(200, { items: [category] });
      return json(call.method === 'POST' ? 201 : 200, category);
    });
    expect((await api.listCategories()).map((c) => c.name)).toEqual(['Work']);
    await api.createCategory({ name: 'Work', color: '#0ea5e9' });
    await api.updateCategory(category, { name: 'Job' });
    await api.deleteCategory(category);
    const sent = calls.slice(1).map((c) => [c.method, c.path, c.body ?? null, c.headers['If-Match'] ?? null]);
    expect(sent).toEqual([
      ['GET', '/v1/categories', null, null],
      ['POST', '/v1/categories', '{"name":"Work","color":"#0ea5e9"}', null],
      ['PATCH', '/v1/categories/c1', '{"name":"Job"}', '"2"'],
      ['DELETE', '/v1/categories/c1', null, '"2"'],
    ]);
  });

  it('turns problem+json into an ApiError with field errors and Retry-After', async () => {
    const { api } = fakeApi(() =>
      json(
        422,
        { type: 'about:blank', title: 'Unprocessable Content', status: 422, errors: [{ field: 'password', message: 'too short' }] },
        { 'Retry-After': '30' },
      ),
    );
    const error = (await api.register('a@example.com', 'x', 'A').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.fieldErrors).toEqual([{ field: 'password', message: 'too short' }]);
    expect(error.retryAfter).toBe(30);
  });

  it('a rejected fetch (offline or CORS) becomes an ApiError with status 0', async () => {
    const { api } = fakeApi(() => Promise.reject(new TypeError('Failed to fetch')));
    const error = (await api.login('a@example.com', 'password1').catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
  });
});

describe('account calls', () => {
  const signedIn = (route: (call: Call) => Response) =>
    fakeApi((call) =>
      call.path === '/v1/auth/login' ? json(200, { access_token: 'A', token_type: 'Bearer', expires_in: 900 }) : route(call),
    );

  it('sends the name, the password change and session ends to their routes with the token', async () => {
    const { api, calls } = signedIn((call) => {
      if (call.path === '/v1/me') return json(200, { ...user, name: 'B' });
      if (call.path === '/v1/sessions' && call.method === 'GET') {
        return json(200, { items: [{ id: 'f1', created_at: 't', last_used_at: 't', user_agent: null, current: true }] });
      }
      return new Response(null, { status: 204 });
    });
    await api.login('a@example.com', 'pw');
    expect((await api.updateName('B')).name).toBe('B');
    await api.changePassword('old password', 'new password');
    expect((await api.listSessions()).map((s) => s.id)).toEqual(['f1']);
    await api.endSession('f1/x');
    await api.endOtherSessions();
    const sent = calls.slice(1).map((c) => [c.method, c.path, c.body ?? null, c.headers.Authorization]);
    expect(sent).toEqual([
      ['PATCH', '/v1/me', '{"name":"B"}', 'Bearer A'],
      ['POST', '/v1/me/password', '{"current_password":"old password","new_password":"new password"}', 'Bearer A'],
      ['GET', '/v1/sessions', null, 'Bearer A'],
      ['DELETE', '/v1/sessions/f1%2Fx', null, 'Bearer A'],
      ['DELETE', '/v1/sessions', null, 'Bearer A'],
    ]);
  });

  it('a wrong current password is an error of the form, not a lost session', async () => {
    const { api, calls, sessionsLost } = signedIn(() =>
      json(403, { title: 'Forbidden', status: 403, detail: 'the current password is incorrect' }),
    );
    await api.login('a@example.com', 'pw');
    const error = await api.changePassword('wrong', 'new password').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect(refreshes(calls)).toBe(0);
    expect(sessionsLost()).toBe(0);
  });

  it('deletes the account with the password, sending it again to resume a deletion cut short', async () => {
    let answers = [
      () => json(503, { title: 'Service Unavailable', status: 503 }, { 'Retry-After': '0' }),
      () => new Response(null, { status: 204 }),
    ];
    const { api, calls } = signedIn(() => answers.shift()!());
    await api.login('a@example.com', 'pw');
    await api.deleteAccount('my password');
    const deletes = calls.filter((c) => c.method === 'DELETE').map((c) => [c.path, c.body, c.headers.Authorization]);
    expect(deletes).toEqual([
      ['/v1/me', '{"password":"my password"}', 'Bearer A'],
      ['/v1/me', '{"password":"my password"}', 'Bearer A'],
    ]);
    // A wrong password is the form's error; nothing is retried.
    answers = [() => json(403, { title: 'Forbidden', status: 403, detail: 'the password is incorrect' })];
    const fresh = signedIn(() => answers.shift()!());
    await fresh.api.login('a@example.com', 'pw');
    const error = await fresh.api.deleteAccount('wrong').catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(403);
    expect(fresh.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });
});

describe('safe creates (Idempotency-Key)', () => {
  const created = { id: 't1', title: 'Buy milk', version: 1 };
  const input = { title: 'Buy milk', description: null, priority: 'high' as const, due_date: '2026-12-24T00:00:00Z', category_id: null };
  const posts = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/v1/tasks');

  /** A signed-in client whose POST /v1/tasks answers with `answers` in turn (then 201). */
  function creating(answers: (() => Response | Promise<Response>)[]) {
    const fake = fakeApi((call) => {
      if (call.path === '/v1/auth/refresh') return json(200, { access_token: 'T' });
      return answers.shift()?.() ?? json(201, created);
    });
    fake.api.createRetryDelaysMs = [0, 0, 0];
    return fake;
  }

  it('sends an Idempotency-Key with the create', async () => {
    const { api, calls } = creating([]);
    await expect(api.createTask(input)).resolves.toEqual(created);
    const [post] = posts(calls);
    expect(post.headers['Idempotency-Key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(post.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(post.body!)).toEqual(input);
  });

  it('a create that got no response, a 5xx or a 409 is retried with the same key and body bytes', async () => {
    const { api, calls } = creating([
      () => Promise.reject(new TypeError('Failed to fetch')),
      () => json(503, { title: 'Service Unavailable', status: 503 }),
      () => json(409, { title: 'Conflict', status: 409, detail: 'a request with this Idempotency-Key is still in flight; retry' }),
    ]);
    await expect(api.createTask(input)).resolves.toEqual(created);
    const sent = posts(calls);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((c) => c.headers['Idempotency-Key'])).size).toBe(1);
    expect(new Set(sent.map((c) => c.body)).size).toBe(1);
    expect(sent[0].body).toBe(JSON.stringify(input));
  });

  it('gives up after a bounded number of attempts with the last error', async () => {
    const { api, calls } = creating(Array.from({ length: 10 }, () => () => Promise.reject(new TypeError('Failed to fetch'))));
    const error = (await api.createTask(input).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(posts(calls)).toHaveLength(1 + api.createRetryDelaysMs.length);
  });

  it('an answer about the body (422, 400) is not retried', async () => {
    const { api, calls } = creating([
      () => json(422, { title: 'Unprocessable Content', status: 422, errors: [{ field: 'title', message: 'empty' }] }),
    ]);
    const error = (await api.createTask({ ...input, title: '' }).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(422);
    expect(posts(calls)).toHaveLength(1);
  });

  it('each create action gets a new key; passing a key repeats that action', async () => {
    const { api, calls } = creating([]);
    await api.createTask(input);
    await api.createTask(input);
    await api.createTask(input, 'my-key');
    const keys = posts(calls).map((c) => c.headers['Idempotency-Key']);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('my-key');
  });

  it('a 401 on a create refreshes and resends the same key and body', async () => {
    const { api, calls } = fakeApi((call) => {
      if (call.path === '/v1/auth/login') return json(200, { access_token: 'A' });
      if (call.path === '/v1/auth/refresh') return json(200, { access_token: 'B' });
      return call.headers.Authorization === 'Bearer B' ? json(201, created) : unauthorized();
    });
    await api.login('a@example.com', 'password1');
    await api.createTask(input);
    const sent = posts(calls);
    expect(sent.map((c) => c.headers.Authorization)).toEqual(['Bearer A', 'Bearer B']);
    expect(sent[0].headers['Idempotency-Key']).toBe(sent[1].headers['Idempotency-Key']);
    expect(sent[0].body).toBe(sent[1].body);
  });
});

describe('recovery by email', () => {
  const problem = (status: number, slug: string, headers: Record<string, string> = {}) =>
    json(status, { type: `https://taskline.example/problems/${slug}`, title: slug, status }, headers);

  it('the link endpoints send their bodies without a session (no refresh, no Authorization)', async () => {
    const { api, calls } = fakeApi((call) =>
      call.path === '/v1/auth/password-reset' ? json(202, { status: 'accepted' }) : new Response(null, { status: 204 }),
    );
    await api.requestPasswordReset('a@example.com');
    await api.confirmPasswordReset('tok', 'a new passphrase');
    await api.verifyEmail('tok2');
    expect(calls.map((c) => [c.method, c.path, JSON.parse(c.body!)])).toEqual([
      ['POST', '/v1/auth/password-reset', { email: 'a@example.com' }],
      ['POST', '/v1/auth/password-reset/confirm', { token: 'tok', new_password: 'a new passphrase' }],
      ['POST', '/v1/auth/verify-email', { token: 'tok2' }],
    ]);
    expect(calls.every((c) => c.headers['Authorization'] === undefined && c.credentials === 'include')).toBe(true);
  });

  it('a used or expired token is an invalid-token error; a weak password a field error', async () => {
    const answers = [
      () => problem(400, 'invalid-token'),
      () => json(422, { title: 'Unprocessable Content', status: 422, errors: [{ field: 'new_password', message: 'too short' }] }),
    ];
    const { api } = fakeApi(() => answers.shift()!());
    const used = await api.confirmPasswordReset('tok', 'a new passphrase').catch((e: unknown) => e);
    expect(isInvalidToken(used)).toBe(true);
    const weak = (await api.confirmPasswordReset('tok', 'short').catch((e: unknown) => e)) as ApiError;
    expect(isInvalidToken(weak)).toBe(false);
    expect(weak.fieldErrors).toEqual([{ field: 'new_password', message: 'too short' }]);
  });

  it('a reset request over its budget carries the wait', async () => {
    const { api } = fakeApi(() => problem(429, 'too-many-requests', { 'Retry-After': '42' }));
    const error = (await api.requestPasswordReset('a@example.com').catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(42);
  });

  it('"send again" is a signed-in request; 409 (verified already) is an ApiError', async () => {
    const answers = [() => json(202, { status: 'accepted' }), () => problem(409, 'conflict')];
    const { api, calls } = fakeApi((call) =>
      call.path === '/v1/auth/refresh' ? json(200, { access_token: 'T' }) : answers.shift()!(),
    );
    await api.sendVerificationEmail();
    const again = (await api.sendVerificationEmail().catch((e: unknown) => e)) as ApiError;
    expect(again.status).toBe(409);
    const sends = calls.filter((c) => c.path === '/v1/me/verification-email');
    expect(sends.map((c) => [c.method, c.headers['Authorization']])).toEqual([
      ['POST', 'Bearer T'],
      ['POST', 'Bearer T'],
    ]);
  });
});
