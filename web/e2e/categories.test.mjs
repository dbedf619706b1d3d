// Categories in the SPA: create one with a colour, file a task under it, filter
// by it and by "No category", rename and recolour it (If-Match), and delete it: its task stays,
// without a category, and the API agrees at every step.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { WEB_URL, api, launchBrowser, login, register, screenshot, storySteps, uniqueEmail, until } from './harness.mjs';

const email = uniqueEmail('categories');
const password = 'correct horse battery staple';

let browser;
let page;
let token;

const step = storySteps('categories-', () => page);

before(async () => {
  await register(email, password, 'Category Tester');
  token = await login(email, password);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on('dialog', (dialog) => void dialog.accept()); // confirm() before deletes
});

after(async () => {
  await browser?.close();
});

const panel = () => page.getByRole('region', { name: 'Categories' });
const categoryList = () => page.getByRole('list', { name: 'Categories' });
const taskList = () => page.getByRole('list', { name: 'Tasks' });
const filters = () => page.getByRole('search', { name: 'Filter tasks' });

async function titles() {
  return taskList().locator('li .title').allTextContents();
}

async function waitForTitles(expected) {
  await until(async () => JSON.stringify(await titles()) === JSON.stringify(expected), `titles ${JSON.stringify(expected)}`);
}

async function categoriesFromApi() {
  const r = await api('GET', '/v1/categories', { token });
  assert.equal(r.status, 200);
  return r.body.items;
}

async function tasksFromApi() {
  const r = await api('GET', '/v1/tasks?limit=100', { token });
  assert.equal(r.status, 200);
  return r.body.items;
}

async function addTask(title, category) {
  const form = page.getByRole('form', { name: 'New task' });
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Category').selectOption({ label: category });
  await form.getByRole('button', { name: 'Add task' }).click();
  await taskList().locator('li .title', { hasText: title }).first().waitFor();
}

step('log in: the categories panel is empty', async () => {
  await page.goto(WEB_URL);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Your tasks', level: 1 }).waitFor();
  await panel().waitFor();
  assert.equal(await categoryList().getByRole('listitem').count(), 0);
});

step('create: a category with a colour; a taken name (other case) is refused', async () => {
  const form = page.getByRole('form', { name: 'New category' });
  await form.getByLabel('Name').fill('Work');
  await form.getByLabel('Colour').fill('#0ea5e9');
  await form.getByRole('button', { name: 'Add category' }).click();
  await categoryList().getByText('Work', { exact: true }).waitFor();
  await categoryList().getByText('(0 tasks)').waitFor();
  const [work] = await categoriesFromApi();
  assert.equal(work.name, 'Work');
  assert.equal(work.color, '#0EA5E9');

  await form.getByLabel('Name').fill('WORK');
  await form.getByRole('button', { name: 'Add category' }).click();
  await until(async () => ((await form.getByRole('alert').textContent()) ?? '').includes('Conflict'), 'the 409 is shown');
  assert.equal((await categoriesFromApi()).length, 1);
});

step('a task is filed under the category and the filter shows it', async () => {
  await addTask('Write report', 'Work');
  await addTask('Water plants', 'None');
  await categoryList().getByText('(1 task)').waitFor();
  await taskList().locator('li', { hasText: 'Write report' }).getByText('Work').waitFor();
  const [work] = await categoriesFromApi();
  const tasks = await tasksFromApi();
  assert.deepEqual(
    tasks.map((t) => [t.title, t.category_id]),
    [['Water plants', null], ['Write report', work.id]],
  );

  await filters().getByLabel('Category').selectOption({ label: 'Work' });
  await waitForTitles(['Write report']);
  await filters().getByLabel('Category').selectOption({ label: 'No category' });
  await waitForTitles(['Water plants']);
  await filters().getByLabel('Category').selectOption({ label: 'Any' });
  await waitForTitles(['Water plants', 'Write report']);
  await screenshot(page, 'categories-filed');
});

step('rename and recolour: PATCH with If-Match; the task shows the new name', async () => {
  const sent = [];
  const listener = (request) => {
    if (request.method() === 'PATCH') sent.push(request.headers()['if-match']);
  };
  page.on('request', listener);
  await categoryList().getByRole('button', { name: 'Edit category Work' }).click();
  const form = page.getByRole('form', { name: 'Edit category Work' });
  await form.getByLabel('Name').fill('Office');
  await form.getByLabel('Colour').fill('#22c55e');
  await form.getByRole('button', { name: 'Save' }).click();
  await categoryList().getByText('Office', { exact: true }).waitFor();
  await taskList().locator('li', { hasText: 'Write report' }).getByText('Office').waitFor();
  page.off('request', listener);
  assert.deepEqual(sent, ['"1"']);
  const [office] = await categoriesFromApi();
  assert.equal(office.name, 'Office');
  assert.equal(office.color, '#22C55E');
  assert.equal(office.version, 2);
});

step('delete: the category goes, its task stays without one (version +1)', async () => {
  const before = (await tasksFromApi()).find((t) => t.title === 'Write report');
  await filters().getByLabel('Category').selectOption({ label: 'Office' });
  await waitForTitles(['Write report']);
  await categoryList().getByRole('button', { name: 'Delete category Office' }).click();
  await until(async () => (await categoryList().getByRole('listitem').count()) === 0, 'the category is gone');
  // The filter named the deleted category: it falls back to every task.
  await waitForTitles(['Water plants', 'Write report']);
  assert.equal(await taskList().locator('li', { hasText: 'Write report' }).getByText('Office').count(), 0);
  assert.deepEqual(await categoriesFromApi(), []);
  const after = (await tasksFromApi()).find((t) => t.title === 'Write report');
  assert.equal(after.category_id, null);
  assert.equal(after.version, before.version + 1);
  await screenshot(page, 'categories-deleted');
});
