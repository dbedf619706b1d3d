// Sorts, due dates and safe creates in the SPA: every choice of the sort selector
// lists the tasks in the API's order for the same query (and the documented one), "Load more"
// keeps the sort; overdue tasks are highlighted (in words, not only colour) until completed and
// the "Overdue only" filter lists just them; a create whose response is lost is retried with
// the same Idempotency-Key and makes exactly one task.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { API_URL, WEB_URL, api, launchBrowser, login, register, screenshot, storySteps, uniqueEmail, until } from './harness.mjs';

const email = uniqueEmail('sorting');
const password = 'correct horse battery staple';
const PAGE_SIZE = 10; // the SPA's page (src/tasks-view.ts)

let browser;
let page;
let token;
/** The requests the page sent to the API: method, path (with query) and headers. */
const sent = [];

const step = storySteps('sorting-', () => page);

before(async () => {
  await register(email, password, 'Sort Tester');
  token = await login(email, password);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('request', (request) => {
    if (request.url().startsWith(API_URL)) {
      sent.push({
        method: request.method(),
        path: request.url().slice(API_URL.length),
        headers: request.headers(),
        body: request.postData(),
      });
    }
  });
});

after(async () => {
  await browser?.close();
});

const taskList = () => page.getByRole('list', { name: 'Tasks' });
const filters = () => page.getByRole('search', { name: 'Filter tasks' });
const loadMore = () => page.getByRole('button', { name: 'Load more' });

function taskRow(title) {
  return taskList().locator('li').filter({ has: page.locator('.title', { hasText: new RegExp(`^${title}$`) }) });
}

async function titles() {
  return taskList().locator('li .title').allTextContents();
}

async function waitForTitles(expected) {
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(expected), `titles ${JSON.stringify(expected)}`);
}

/** Waits until the list starts with `expected` (the rest: however many pages are loaded). */
async function waitForFirstTitles(expected) {
  await until(
    async () => JSON.stringify((await titles()).slice(0, expected.length)) === JSON.stringify(expected),
    `titles starting ${JSON.stringify(expected)}`,
  );
}

/** Titles of the API's listing for `query` (all of them: limit 100, one page). */
async function apiTitles(query) {
  const r = await api('GET', `/v1/tasks?limit=100${query ? `&${query}` : ''}`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.next_cursor, null);
  return r.body.items.map((t) => t.title);
}

/** Midnight UTC `days` from today, as the SPA's date field stores a due date. */
function dayFromToday(days) {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return `${date.toISOString().slice(0, 10)}T00:00:00Z`;
}

async function createViaApi(task) {
  const r = await api('POST', '/v1/tasks', { token, body: task });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

// More than a page of tasks, created oldest first, with due dates (some without) and priorities
// that each sort puts in another order.
const SEED = [
  ['low', 5], ['high', 1], ['medium', null], ['low', 3], ['high', null], ['medium', 8],
  ['low', 2], ['high', 10], ['medium', 4], ['low', null], ['high', 6], ['medium', 7],
].map(([priority, days], i) => ({
  title: `Task ${String(i + 1).padStart(2, '0')}`,
  created: i,
  priority,
  due: days === null ? null : dayFromToday(days),
}));

const RANK = { low: 0, medium: 1, high: 2 };

/**
 * The documented order (docs/API.md): by the sort's key in the order's direction, ties by
 * creation in the same direction; with `due`, the tasks without one last in both orders.
 */
function expectedOrder(sort, order) {
  const sign = order === 'asc' ? 1 : -1;
  const key = {
    created: () => 0,
    priority: (t) => RANK[t.priority],
    due: (t) => Date.parse(t.due),
  }[sort];
  return [...SEED]
    .sort((a, b) => {
      if (sort === 'due' && (a.due === null) !== (b.due === null)) return a.due === null ? 1 : -1;
      const byKey = sort === 'due' && a.due === null ? 0 : key(a) - key(b);
      return sign * (byKey || a.created - b.created);
    })
    .map((t) => t.title);
}

const SORTS = [
  ['Newest first', 'created', 'desc'],
  ['Oldest first', 'created', 'asc'],
  ['Due date, soonest first', 'due', 'asc'],
  ['Due date, latest first', 'due', 'desc'],
  ['Priority, high to low', 'priority', 'desc'],
  ['Priority, low to high', 'priority', 'asc'],
];

step('log in with more than a page of tasks: newest first, then "Load more"', async () => {
  for (const task of SEED) {
    await createViaApi({ title: task.title, priority: task.priority, due_date: task.due });
  }
  await page.goto(WEB_URL);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your tasks', level: 1 }).waitFor();
  const newest = expectedOrder('created', 'desc');
  await waitForTitles(newest.slice(0, PAGE_SIZE));
  assert.equal(await filters().getByLabel('Sort by').inputValue(), 'created-desc');
  await loadMore().click();
  await waitForTitles(newest);
  // The due dates are in the rows (a day: the time is midnight UTC).
  await taskRow('Task 02').getByText(`due ${dayFromToday(1).slice(0, 10)}`).waitFor();
  assert.equal(await taskRow('Task 03').locator('.due').count(), 0, 'no due date, none shown');
});

for (const [label, sort, order] of SORTS) {
  step(`sort "${label}": the API's order for sort=${sort}&order=${order}; "Load more" keeps it`, async () => {
    const expected = expectedOrder(sort, order);
    const query = `sort=${sort}&order=${order}`;
    // The due and priority sorts read indexes (eventually consistent): wait for the API to agree.
    await until(async () => JSON.stringify(await apiTitles(query)) === JSON.stringify(expected), `the API lists ${query} as documented`);

    const from = sent.length;
    await filters().getByLabel('Sort by').selectOption({ label });
    await waitForTitles(expected.slice(0, PAGE_SIZE));
    await loadMore().click();
    await waitForTitles(expected);
    assert.ok(await loadMore().isHidden(), 'everything is listed');

    const lists = sent.slice(from).filter((r) => r.method === 'GET' && r.path.startsWith('/v1/tasks'));
    const params = lists.map((r) => new URL(r.path, API_URL).searchParams);
    const isDefault = sort === 'created' && order === 'desc';
    for (const p of params) {
      // The default order is the plain listing; any other is sent, on every page.
      assert.equal(p.get('sort'), isDefault ? null : sort, `sort in ${p}`);
      assert.equal(p.get('order'), isDefault ? null : order, `order in ${p}`);
    }
    assert.ok(params.some((p) => p.has('cursor')), 'the second page was asked for with the cursor');
    if (sort === 'due') await screenshot(page, `sorting-due-${order}`);
  });
}

step('overdue: a task due yesterday is highlighted in words, a future one is not', async () => {
  await filters().getByLabel('Sort by').selectOption({ label: 'Newest first' });
  // Due three days ago at 09:30 UTC (the row shows the time); then two created in the form.
  await createViaApi({ title: 'File taxes', priority: 'high', due_date: `${dayFromToday(-3).slice(0, 10)}T09:30:00Z` });
  const form = page.getByRole('form', { name: 'New task' });
  for (const [title, days] of [['Pay rent', -1], ['Renew passport', 30]]) {
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Due date').fill(dayFromToday(days).slice(0, 10));
    await form.getByRole('button', { name: 'Add task' }).click();
    await taskRow(title).waitFor();
  }
  await waitForFirstTitles(['Renew passport', 'Pay rent', 'File taxes', 'Task 12']);

  const rent = taskRow('Pay rent');
  assert.match(await rent.getAttribute('class'), /\boverdue\b/);
  await rent.getByText('Overdue', { exact: true }).waitFor();
  await rent.getByText(`due ${dayFromToday(-1).slice(0, 10)}`).waitFor();
  await taskRow('File taxes').getByText('Overdue', { exact: true }).waitFor();
  await taskRow('File taxes').getByText(`due ${dayFromToday(-3).slice(0, 10)} 09:30 UTC`).waitFor();
  const passport = taskRow('Renew passport');
  assert.doesNotMatch(await passport.getAttribute('class'), /\boverdue\b/);
  assert.equal(await passport.getByText('Overdue').count(), 0);
  await passport.getByText(`due ${dayFromToday(30).slice(0, 10)}`).waitFor();
  // Nothing else is overdue: the seeded tasks are all due in the future (or never).
  assert.equal(await taskList().locator('li.overdue').count(), 2);
  assert.equal(await taskList().getByText('Overdue', { exact: true }).count(), 2);
  await screenshot(page, 'sorting-overdue');
});

step('"Overdue only" lists just the overdue tasks, as the API does', async () => {
  const from = sent.length;
  await filters().getByLabel('Overdue only').check();
  await waitForTitles(['Pay rent', 'File taxes']);
  assert.deepEqual(await apiTitles('overdue=true'), ['Pay rent', 'File taxes']);
  assert.ok(sent.slice(from).some((r) => r.method === 'GET' && r.path.includes('overdue=true')), 'the filter went to the API');
  // With a sort too: soonest due first.
  await filters().getByLabel('Sort by').selectOption({ label: 'Due date, soonest first' });
  await waitForTitles(['File taxes', 'Pay rent']);
  await filters().getByLabel('Sort by').selectOption({ label: 'Newest first' });
  await filters().getByLabel('Overdue only').uncheck();
  await waitForFirstTitles(['Renew passport', 'Pay rent', 'File taxes', 'Task 12']);
});

step('completing an overdue task removes its highlight and takes it out of "Overdue only"', async () => {
  await page.getByRole('checkbox', { name: 'Completed: Pay rent', exact: true }).click();
  await until(async () => /\bdone\b/.test(await taskRow('Pay rent').getAttribute('class')), 'Pay rent shown completed');
  assert.doesNotMatch(await taskRow('Pay rent').getAttribute('class'), /\boverdue\b/);
  assert.equal(await taskRow('Pay rent').getByText('Overdue').count(), 0);
  await taskRow('File taxes').getByText('Overdue', { exact: true }).waitFor();
  await filters().getByLabel('Overdue only').check();
  await waitForTitles(['File taxes']);
  assert.deepEqual(await apiTitles('overdue=true'), ['File taxes']);
  await filters().getByLabel('Overdue only').uncheck();
  await taskRow('Pay rent').waitFor();
});

step('safe create: the first response is lost, the retry with the same key makes one task', async () => {
  const title = 'Buy stamps';
  const posts = [];
  const onRequest = (request) => {
    if (request.method() === 'POST' && request.url() === `${API_URL}/v1/tasks`) {
      posts.push(request.allHeaders().then((headers) => ({ headers, body: request.postData() })));
    }
  };
  page.on('request', onRequest);
  let first = null;
  await page.route('**/v1/tasks', async (route) => {
    if (route.request().method() === 'POST' && first === null) {
      // The request reaches the API (the task is created), but its answer never arrives.
      first = await route.fetch();
      await route.abort('failed');
    } else {
      await route.continue();
    }
  });
  try {
    const answered = page.waitForResponse(
      (r) => r.url() === `${API_URL}/v1/tasks` && r.request().method() === 'POST' && r.status() === 201,
    );
    const form = page.getByRole('form', { name: 'New task' });
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Due date').fill('');
    await form.getByRole('button', { name: 'Add task' }).click();
    const retried = await answered;
    await taskRow(title).waitFor();
    await page.getByText(`Task "${title}" added.`).waitFor();

    assert.ok(first, 'the first attempt went through the route');
    assert.equal(first.status(), 201, 'the first attempt created the task');
    const sentPosts = await Promise.all(posts);
    assert.equal(sentPosts.length, 2, 'one retry');
    const [a, b] = sentPosts;
    assert.ok(a.headers['idempotency-key'], 'the create carried an Idempotency-Key');
    assert.equal(b.headers['idempotency-key'], a.headers['idempotency-key'], 'the retry carried the same key');
    assert.equal(b.body, a.body, 'and the same body bytes');
    // The API answered the retry with the first create's answer: the same task.
    assert.equal((await retried.json()).id, (await first.json()).id);

    assert.equal(await taskRow(title).count(), 1, 'the list shows it once');
    const r = await api('GET', `/v1/tasks?q=${encodeURIComponent(title)}`, { token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.items.map((t) => t.title), [title], 'the API has exactly one');
  } finally {
    await page.unroute('**/v1/tasks');
    page.off('request', onRequest);
  }
  await screenshot(page, 'sorting-safe-create');
});

step('safe create: the next create action sends a new key', async () => {
  const keyed = sent.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').map((r) => r.headers['idempotency-key']);
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill('Buy envelopes');
  await form.getByRole('button', { name: 'Add task' }).click();
  await taskRow('Buy envelopes').waitFor();
  const posts = sent.filter((r) => r.method === 'POST' && r.path === '/v1/tasks');
  const key = posts.at(-1).headers['idempotency-key'];
  assert.ok(key);
  assert.ok(!keyed.includes(key), 'a key never used before');
  assert.equal(new Set(posts.map((r) => r.headers['idempotency-key'])).size, posts.length - 1, 'only the retry repeated a key');
});

step('safe create: when every retry is lost too, "Add task" again repeats the same create', async () => {
  const title = 'Send parcel';
  const keys = [];
  const onRequest = (request) => {
    if (request.method() === 'POST' && request.url() === `${API_URL}/v1/tasks`) keys.push(request.headers()['idempotency-key']);
  };
  page.on('request', onRequest);
  const lost = [];
  await page.route('**/v1/tasks', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    lost.push((await route.fetch()).status()); // arrives, the answer is lost
    await route.abort('failed');
  });
  const form = page.getByRole('form', { name: 'New task' });
  try {
    await form.getByLabel('Title').fill(title);
    await form.getByRole('button', { name: 'Add task' }).click();
    await until(async () => ((await form.getByRole('alert').textContent()) ?? '').includes('Cannot reach the server'), 'the lost create is reported');
  } finally {
    await page.unroute('**/v1/tasks');
  }
  assert.ok(lost.length > 1, 'the client retried');
  assert.deepEqual(lost, lost.map(() => 201), 'the first created it, the retries got its answer again');
  assert.equal(await form.getByLabel('Title').inputValue(), title, 'the form keeps the input');

  await form.getByRole('button', { name: 'Add task' }).click();
  await page.getByText(`Task "${title}" added.`).waitFor();
  await taskRow(title).waitFor();
  page.off('request', onRequest);
  assert.equal(keys.length, lost.length + 1);
  assert.equal(new Set(keys).size, 1, 'every attempt, also the one the user started, carried the first key');
  assert.equal(await taskRow(title).count(), 1);
  const r = await api('GET', `/v1/tasks?q=${encodeURIComponent(title)}`, { token });
  assert.deepEqual(r.body.items.map((t) => t.title), [title], 'the API has exactly one');
});
