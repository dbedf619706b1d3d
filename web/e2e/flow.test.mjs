// The whole SPA flow in a real Chromium against the real local stack (DynamoDB Local + the
// Lambda functions): CORS with credentials, the HttpOnly refresh cookie and its rotation,
// If-Match on writes, paging, logout, account deletion, and CORS refusing a foreign origin.
//
// Steps share one browser and one user and run in order; after a failed step the rest are
// skipped (they would only fail for the same reason).

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  API_URL,
  WEB_URL,
  api,
  launchBrowser,
  login,
  register,
  screenshot,
  serveForeignOrigin,
  storySteps,
  uniqueEmail,
  until,
} from './harness.mjs';

const REFRESH_COOKIE = '__Host-taskline_refresh';
const DEVICE_COOKIE = '__Host-taskline_device';
const email = uniqueEmail('flow');
const password = 'correct horse battery staple';

let browser;
let page;
/** Every request the SPA sent to the API, in order. */
const sent = [];
const step = storySteps('', () => page);

before(async () => {
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (dialog) => void dialog.accept()); // confirm() before deletes
  page.on('request', (request) => {
    if (request.url().startsWith(API_URL)) {
      sent.push({
        method: request.method(),
        path: request.url().slice(API_URL.length),
        headers: request.headers(),
      });
    }
  });
});

after(async () => {
  await browser?.close();
});

// --- helpers over the page ---------------------------------------------------------------------

const heading = (name) => page.getByRole('heading', { name, level: 1 });
const newTaskForm = () => page.getByRole('form', { name: 'New task' });
const filters = () => page.getByRole('search', { name: 'Filter tasks' });
const taskList = () => page.getByRole('list', { name: 'Tasks' });
const counts = () => page.locator('#counts');

async function titles() {
  return taskList().locator('li .title').allTextContents();
}

async function waitForCounts(text) {
  await until(async () => (await counts().textContent())?.startsWith(text), `counts "${text}"`);
}

async function waitForTitles(expected) {
  await until(
    async () => JSON.stringify(await titles()) === JSON.stringify(expected),
    `titles ${JSON.stringify(expected)}`,
  ).catch(async (error) => {
    throw new Error(`${error.message}; shown: ${JSON.stringify(await titles())}`);
  });
}

async function refreshCookie() {
  const cookies = await browser.context.cookies(API_URL);
  return cookies.find((c) => c.name === REFRESH_COOKIE);
}

/** The access token the SPA holds, read from the Authorization header of its last API call. */
function lastAccessToken() {
  const withToken = sent.filter((r) => r.headers.authorization?.startsWith('Bearer '));
  assert.ok(withToken.length > 0, 'the SPA sent no Bearer token yet');
  return withToken.at(-1).headers.authorization.slice('Bearer '.length);
}

/** Field error shown for a labelled control: aria-invalid plus its aria-describedby text. */
async function fieldError(scope, label) {
  const control = scope.getByLabel(label, { exact: true });
  await until(async () => (await control.getAttribute('aria-invalid')) === 'true', `${label} marked invalid`);
  return control.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id))
      .filter((e) => e?.classList.contains('field-error'))
      .map((e) => e.textContent)
      .join(' '),
  );
}

async function addTask({ title, description = '', priority = 'Medium', due = '' }) {
  const form = newTaskForm();
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Description').fill(description);
  await form.getByLabel('Priority').selectOption({ label: priority });
  await form.getByLabel('Due date').fill(due);
  await form.getByRole('button', { name: 'Add task' }).click();
  await taskList().locator('li .title', { hasText: title }).first().waitFor();
}

function taskRow(title) {
  return taskList().locator('li').filter({ has: page.locator('.title', { hasText: new RegExp(`^${title}$`) }) });
}

// --- the flow ------------------------------------------------------------------------------------

step('a fresh browser opens on the login screen', async () => {
  await page.goto(WEB_URL);
  await heading('Log in').waitFor();
  assert.equal(await refreshCookie(), undefined);
  await screenshot(page, 'login');
});

step('sign up: field errors from problem+json are shown next to their fields, then the account is created', async () => {
  await page.getByRole('button', { name: 'Sign up' }).click();
  await heading('Sign up').waitFor();
  const form = page.getByRole('form', { name: 'Sign up' });
  await form.getByLabel('Name').fill('Ada E2E');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill('short');
  await form.getByRole('button', { name: 'Create account' }).click();
  const message = await fieldError(form, 'Password');
  assert.ok(message.length > 0, 'a message is shown next to the password field');
  assert.equal(await form.getByLabel('Name').getAttribute('aria-invalid'), null, 'only the bad field is marked');
  await screenshot(page, 'signup-field-error');

  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Create account' }).click();
  await heading('Log in').waitFor();
  await page.getByText('Account created').waitFor();
  assert.equal(await page.getByLabel('Email').inputValue(), email, 'the login form is prefilled');
});

step('log in: the refresh token arrives as an HttpOnly, Secure, SameSite cookie the page cannot read', async () => {
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await heading('Your tasks').waitFor();
  await waitForCounts('0 tasks, 0 completed');
  await page.getByText('No tasks yet').waitFor();
  await page.getByText(`Signed in as Ada E2E (${email})`).waitFor();

  const cookie = await refreshCookie();
  assert.ok(cookie, 'Chromium stored the refresh cookie set by the API origin');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.path, '/');
  assert.equal(cookie.sameSite, process.env.COOKIE_SAMESITE ?? 'Strict');
  // The device cookie of the same login, kept for the next one (slow brute-force protection).
  const device = (await browser.context.cookies(API_URL)).find((c) => c.name === DEVICE_COOKIE);
  assert.ok(device, 'Chromium stored the device cookie set by the API origin');
  assert.equal(device.httpOnly, true);
  assert.equal(device.secure, true);
  assert.equal(device.sameSite, cookie.sameSite);
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by script');
  await screenshot(page, 'tasks-empty');
});

step('create: a missing title is a field error; three tasks are created, newest first', async () => {
  const form = newTaskForm();
  await form.getByLabel('Title').fill('   ');
  await form.getByRole('button', { name: 'Add task' }).click();
  assert.ok((await fieldError(form, 'Title')).length > 0, 'a message is shown next to the title field');

  await addTask({ title: 'Buy milk', description: 'Two litres', priority: 'High' });
  await addTask({ title: 'Write report', priority: 'Medium', due: '2026-12-01' });
  await addTask({ title: 'Call plumber', priority: 'Low' });
  await waitForCounts('3 tasks, 0 completed, 3 open');
  await waitForTitles(['Call plumber', 'Write report', 'Buy milk']);
  await taskRow('Write report').getByText('due 2026-12-01').waitFor();
  await taskRow('Buy milk').getByText('High priority').waitFor();
  await taskRow('Buy milk').getByText('Two litres').waitFor();
  assert.equal(await form.getByLabel('Title').getAttribute('aria-invalid'), null, 'the error is cleared');
});

step('complete one: PATCH with If-Match, counts show it', async () => {
  await page.getByRole('checkbox', { name: 'Completed: Buy milk', exact: true }).click();
  await waitForCounts('3 tasks, 1 completed, 2 open');
  const patch = sent.findLast((r) => r.method === 'PATCH');
  assert.equal(patch.headers['if-match'], '"1"');
  assert.ok(await page.getByRole('checkbox', { name: 'Completed: Buy milk', exact: true }).isChecked());
  await screenshot(page, 'tasks-one-completed');
});

step('filters: completed and priority', async () => {
  await filters().getByLabel('Status').selectOption({ label: 'Completed' });
  await waitForTitles(['Buy milk']);
  await filters().getByLabel('Status').selectOption({ label: 'Open' });
  await waitForTitles(['Call plumber', 'Write report']);
  await filters().getByLabel('Status').selectOption({ label: 'All' });
  await filters().getByLabel('Priority').selectOption({ label: 'Low' });
  await waitForTitles(['Call plumber']);
  await filters().getByLabel('Priority').selectOption({ label: 'Any' });
  await waitForTitles(['Call plumber', 'Write report', 'Buy milk']);
  await waitForCounts('3 tasks, 1 completed'); // counts are totals, not the filtered view
});

step('search: a case-insensitive substring of the title', async () => {
  await filters().getByLabel('Search titles').fill('REPORT');
  await filters().getByRole('button', { name: 'Search' }).click();
  await waitForTitles(['Write report']);
  assert.ok(sent.some((r) => r.path.includes('q=REPORT')), 'the search went to the API');
  await screenshot(page, 'search');
  await filters().getByLabel('Search titles').fill('nothing like this');
  await filters().getByRole('button', { name: 'Search' }).click();
  await page.getByText('No tasks match these filters.').waitFor();
  await filters().getByLabel('Search titles').fill('');
  await filters().getByRole('button', { name: 'Search' }).click();
  await waitForTitles(['Call plumber', 'Write report', 'Buy milk']);
});

step('reload: the session is restored from the refresh cookie, which rotates; no token in web storage', async () => {
  const before = await refreshCookie();
  const tokenBefore = lastAccessToken();
  const from = sent.length;
  await page.reload();
  await heading('Your tasks').waitFor();
  await waitForCounts('3 tasks, 1 completed');
  await waitForTitles(['Call plumber', 'Write report', 'Buy milk']);

  const afterReload = sent.slice(from);
  assert.equal(afterReload[0].path, '/v1/auth/refresh', 'the first call after a reload is the refresh');
  assert.equal(afterReload.filter((r) => r.path === '/v1/auth/refresh').length, 1, 'exactly one refresh');
  const rotated = await refreshCookie();
  assert.ok(rotated, 'a refresh cookie is still stored');
  assert.notEqual(rotated.value, before.value, 'the refresh cookie was rotated');
  const token = lastAccessToken();
  assert.notEqual(token, tokenBefore, 'a new access token is in use');

  const storage = await page.evaluate(() => ({
    local: Object.entries(localStorage),
    session: Object.entries(sessionStorage),
    cookie: document.cookie,
  }));
  assert.deepEqual(storage.local, [], 'localStorage is empty');
  assert.deepEqual(storage.session, [], 'sessionStorage is empty');
  assert.ok(!JSON.stringify(storage).includes(token), 'the access token is nowhere in web storage');
  await screenshot(page, 'after-reload');
});

step('edit: PATCH with If-Match saves the changes', async () => {
  await page.getByRole('button', { name: 'Edit Write report', exact: true }).click();
  const form = page.getByRole('form', { name: 'Edit task Write report' });
  assert.equal(await form.getByLabel('Title').inputValue(), 'Write report');
  assert.equal(await form.getByLabel('Due date').inputValue(), '2026-12-01');
  await form.getByLabel('Title').fill('Write quarterly report');
  await form.getByLabel('Description').fill('Q4 numbers');
  await form.getByLabel('Priority').selectOption({ label: 'High' });
  await form.getByLabel('Due date').fill('');
  await screenshot(page, 'edit-form');
  await form.getByRole('button', { name: 'Save' }).click();
  await waitForTitles(['Call plumber', 'Write quarterly report', 'Buy milk']);
  const row = taskRow('Write quarterly report');
  await row.getByText('High priority').waitFor();
  await row.getByText('Q4 numbers').waitFor();
  assert.equal(await row.locator('.due').count(), 0, 'the due date was cleared');
  const patch = sent.findLast((r) => r.method === 'PATCH');
  assert.equal(patch.headers['if-match'], '"1"');
});

step('edit conflict: a change made elsewhere meanwhile gives 412 and nothing is overwritten', async () => {
  await page.getByRole('button', { name: 'Edit Call plumber', exact: true }).click();
  const form = page.getByRole('form', { name: 'Edit task Call plumber' });
  await form.getByLabel('Title').fill('Call plumber today');

  // Another session (another device) changes the task first.
  const id = await taskList().locator('li.editing').getAttribute('data-task-id');
  const other = await login(email, password);
  const changed = await api('PATCH', `/v1/tasks/${id}`, { token: other, body: { title: 'Call the plumber' } });
  assert.equal(changed.status, 200);

  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByText('This task was changed elsewhere').waitFor();
  const reopened = page.getByRole('form', { name: 'Edit task Call the plumber' });
  assert.equal(await reopened.getByLabel('Title').inputValue(), 'Call the plumber');
  const patch = sent.findLast((r) => r.method === 'PATCH');
  assert.equal(patch.headers['if-match'], '"1"', 'the stale version was sent');
  await screenshot(page, 'edit-conflict');
  await reopened.getByRole('button', { name: 'Cancel' }).click();
  await waitForTitles(['Call the plumber', 'Write quarterly report', 'Buy milk']);
});

step('paging: "Load more" follows next_cursor until the last page', async () => {
  const token = await login(email, password);
  for (let i = 1; i <= 9; i += 1) {
    const r = await api('POST', '/v1/tasks', { token, body: { title: `Batch task ${i}` } });
    assert.equal(r.status, 201);
  }
  await page.getByRole('button', { name: 'Refresh' }).click();
  await waitForCounts('12 tasks, 1 completed');
  await until(async () => (await titles()).length === 10, 'the first page of 10');
  const more = page.getByRole('button', { name: 'Load more' });
  await more.click();
  await until(async () => (await titles()).length === 12, 'all 12 tasks');
  const shown = await titles();
  assert.equal(new Set(shown).size, 12, 'no task is shown twice');
  assert.deepEqual(shown.slice(-3), ['Call the plumber', 'Write quarterly report', 'Buy milk']);
  assert.ok(await more.isHidden(), 'no "Load more" after the last page');
  assert.ok(sent.some((r) => /[?&]cursor=/.test(r.path)), 'the cursor was sent');
  await screenshot(page, 'paged');
});

step('delete: DELETE with If-Match removes the task and updates the counts', async () => {
  await taskRow('Buy milk').getByRole('button', { name: 'Delete Buy milk' }).click();
  await waitForCounts('11 tasks, 0 completed');
  assert.equal(await taskRow('Buy milk').count(), 0);
  const del = sent.findLast((r) => r.method === 'DELETE');
  assert.equal(del.headers['if-match'], '"2"', 'the version after completing it');
});

step('a task deleted elsewhere: completing it reports that it is gone and reloads the list', async () => {
  const id = await taskRow('Batch task 1').getAttribute('data-task-id');
  const other = await login(email, password);
  assert.equal((await api('DELETE', `/v1/tasks/${id}`, { token: other })).status, 204);
  // click, not check(): the row is rebuilt by the reload, so its state can't be re-checked.
  await page.getByRole('checkbox', { name: 'Completed: Batch task 1', exact: true }).click();
  await page.getByText('"Batch task 1" no longer exists').waitFor();
  await waitForCounts('10 tasks, 0 completed');
  assert.equal(await taskRow('Batch task 1').count(), 0);
});

step('concurrent 401s share one refresh, and the session survives it', async () => {
  // Make the API refuse the current access token (as if it had expired): every request that
  // carries it is sent with a bad signature instead. The SPA's parallel loads (profile, tasks,
  // categories) all get 401.
  // The refresh is held back a little so that both 401s surely arrive while it is in flight.
  const stale = lastAccessToken();
  await page.route(`${API_URL}/v1/**`, async (route) => {
    const headers = route.request().headers();
    if (headers.authorization === `Bearer ${stale}`) {
      return route.continue({ headers: { ...headers, authorization: `Bearer ${stale}x` } });
    }
    if (route.request().url().endsWith('/v1/auth/refresh')) await new Promise((r) => setTimeout(r, 700));
    return route.continue();
  });
  const from = sent.length;
  const responses = [];
  const onResponse = (response) => {
    if (response.url().startsWith(API_URL)) {
      responses.push(`${response.request().method()} ${response.url().slice(API_URL.length).split('?')[0]} ${response.status()}`);
    }
  };
  page.on('response', onResponse);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await until(() => responses.filter((r) => r.endsWith(' 200')).length >= 4, 'refresh and the three retries');
  await page.unroute(`${API_URL}/v1/**`);
  page.off('response', onResponse);

  const calls = sent.slice(from);
  assert.equal(calls.filter((r) => r.path === '/v1/auth/refresh').length, 1, `one refresh in ${JSON.stringify(responses)}`);
  assert.ok(responses.includes('GET /v1/me 401') && responses.includes('GET /v1/tasks 401'), JSON.stringify(responses));
  assert.ok(responses.includes('GET /v1/me 200') && responses.includes('GET /v1/tasks 200'), JSON.stringify(responses));
  assert.ok(responses.includes('GET /v1/categories 200'), JSON.stringify(responses));
  assert.notEqual(lastAccessToken(), stale);
  await waitForCounts('10 tasks, 0 completed');

  // Two refreshes with one cookie would look like token theft and revoke the session: the
  // session is still alive, as a reload shows.
  await page.reload();
  await heading('Your tasks').waitFor();
  await waitForCounts('10 tasks');
});

step('log out: the cookie is cleared and a reload shows the login screen', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await heading('Log in').waitFor();
  await page.getByText('You have logged out.').waitFor();
  assert.equal(await refreshCookie(), undefined, 'the refresh cookie is gone');
  await page.reload();
  await heading('Log in').waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Your tasks' }).count(), 0);
  await screenshot(page, 'logged-out');
});

step('CORS: a page from a non-allowed origin cannot read /v1/tasks', async () => {
  const token = await login(email, password);
  const read = (token) =>
    fetch(`${window.__API__}/v1/tasks`, { headers: { Authorization: `Bearer ${token}` }, credentials: 'include' })
      .then((r) => `resolved ${r.status}`)
      .catch((e) => `rejected ${e.name}`);

  // From the SPA's own origin the same call works: the token is good.
  await page.evaluate((url) => (window.__API__ = url), API_URL);
  assert.equal(await page.evaluate(read, token), 'resolved 200');

  const foreign = await serveForeignOrigin();
  const evil = await browser.context.newPage();
  try {
    await evil.goto(foreign.url);
    await evil.evaluate((url) => (window.__API__ = url), API_URL);
    assert.equal(await evil.evaluate(read, token), 'rejected TypeError', 'the credentialed read is blocked');
    const simple = await evil.evaluate(
      (url) => fetch(`${url}/v1/tasks`).then((r) => `resolved ${r.status}`, (e) => `rejected ${e.name}`),
      API_URL,
    );
    assert.equal(simple, 'rejected TypeError', 'even a simple GET cannot be read');
    const refresh = await evil.evaluate(
      (url) =>
        fetch(`${url}/v1/auth/refresh`, { method: 'POST', credentials: 'include' }).then(
          (r) => `resolved ${r.status}`,
          (e) => `rejected ${e.name}`,
        ),
      API_URL,
    );
    assert.equal(refresh, 'rejected TypeError', 'nor can it refresh a session');
    await evil.evaluate(
      (lines) => (document.getElementById('out').textContent = lines.join('\n')),
      [`origin: ${new URL(foreign.url).origin}`, 'fetch /v1/tasks with a valid token: rejected (CORS)'],
    );
    await screenshot(evil, 'foreign-origin-blocked');
  } finally {
    await evil.close();
    await foreign.close();
  }
});

step('delete account: the user and the session are gone', async () => {
  const other = uniqueEmail('delete');
  await register(other, password, 'Short Lived');
  await page.getByLabel('Email').fill(other);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await heading('Your tasks').waitFor();
  await addTask({ title: 'Doomed task' });
  const token = lastAccessToken();

  await page.getByRole('button', { name: 'Delete account' }).click();
  // The API asks for the password again: a wrong one deletes nothing.
  const confirmForm = page.getByRole('form', { name: 'Delete account' });
  await confirmForm.getByLabel('Your password, to confirm').fill('not the password');
  await confirmForm.getByRole('button', { name: 'Delete account permanently' }).click();
  await confirmForm.getByRole('alert').filter({ hasText: /password/i }).waitFor();
  assert.equal((await api('GET', '/v1/me', { token })).status, 200, 'a wrong password deletes nothing');
  await confirmForm.getByLabel('Your password, to confirm').fill(password);
  await confirmForm.getByRole('button', { name: 'Delete account permanently' }).click();
  await heading('Log in').waitFor();
  await page.getByText('Your account and all its tasks were deleted.').waitFor();
  await screenshot(page, 'account-deleted');
  assert.equal((await api('GET', '/v1/me', { token })).status, 401, 'its access token stopped working');

  await page.reload();
  await heading('Log in').waitFor();
  await page.getByLabel('Email').fill(other);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  const alert = page.getByRole('form', { name: 'Log in' }).getByRole('alert');
  await alert.waitFor(); // shown only once it has a message
  assert.ok((await alert.textContent()).length > 0, 'a login error is shown');
  assert.equal(await page.getByRole('heading', { name: 'Your tasks' }).count(), 0);
});
